/// One thing wrong with an object, named by its field path (`spec.group.size: must be >= 1`).
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }

    public static func required(_ path: String) -> FieldError { FieldError(path, "Required value") }

    public static func notSupported(_ path: String, _ value: String, allowed: [String]) -> FieldError {
        FieldError(
            path,
            "Unsupported value: \"\(value)\": supported values: \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
    }

    /// A field whose behaviour a later Starling release brings.
    public static func notSupportedYet(_ path: String, _ detail: String) -> FieldError {
        FieldError(path, "not supported yet: \(detail)")
    }

    public static func unknownField(_ path: String) -> FieldError { FieldError(path, "unknown field") }
}

/// An object that failed validation, with every field error found.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: String
    public var name: String
    public var errors: [FieldError]

    public init(kind: String, name: String, errors: [FieldError]) {
        self.kind = kind
        self.name = name
        self.errors = errors
    }

    public var description: String {
        "\(kind) \"\(name)\" is invalid: " + errors.map(\.description).joined(separator: ", ")
    }
}

/// Small helpers shared by the validators.
public enum Validation {
    /// RFC 1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, at most 63.
    public static func dnsLabelErrors(_ value: String, path: String, maxLength: Int = 63) -> [FieldError] {
        var errors: [FieldError] = []
        if value.isEmpty { return [.required(path)] }
        if value.count > maxLength {
            errors.append(FieldError(path, "must be no more than \(maxLength) characters (got \(value.count))"))
        }
        let allowed = value.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
        let edges =
            value.first.map { $0.isLetter || $0.isNumber } == true
            && value.last.map { $0.isLetter || $0.isNumber } == true
        if !allowed || !edges {
            errors.append(
                FieldError(
                    path,
                    "Invalid value: \"\(value)\": must consist of lower case alphanumeric characters or '-', "
                        + "and must start and end with an alphanumeric character"))
        }
        return errors
    }

    /// RFC 1123 subdomain: labels joined by '.', at most 253.
    public static func dnsSubdomainErrors(_ value: String, path: String) -> [FieldError] {
        if value.isEmpty { return [.required(path)] }
        if value.count > 253 { return [FieldError(path, "must be no more than 253 characters")] }
        let ok = value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            dnsLabelErrors(String($0), path: path).isEmpty
        }
        return ok
            ? []
            : [
                FieldError(
                    path,
                    "Invalid value: \"\(value)\": a lowercase RFC 1123 subdomain must consist of lower case "
                        + "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")
            ]
    }

    /// A C identifier as environment variable names should be.
    public static func envNameErrors(_ value: String, path: String) -> [FieldError] {
        if value.isEmpty { return [.required(path)] }
        let ok =
            value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
            && !(value.first?.isNumber ?? false)
        return ok
            ? []
            : [
                FieldError(
                    path,
                    "Invalid value: \"\(value)\": must consist of letters, digits, '_', '-' or '.', "
                        + "and must not start with a digit")
            ]
    }
}
