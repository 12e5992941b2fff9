/// Reads one object of a configuration file (YAML or JSON, as a `JSONValue`) field by field, naming the field
/// path in every error and rejecting fields nobody read. For files that are not Kubernetes objects (bench
/// configurations, gateway configurations), where a typed decoder would lose the path of a bad value.
///
/// ```swift
/// var reader = try ConfigReader(value, path: "load")
/// let rate = try reader.double("rate")            // nil when absent
/// try reader.finish()                             // "load.ratee: unknown field"
/// ```
public struct ConfigReader: Sendable {
    public let path: String
    private let members: [String: JSONValue]
    private var read: Set<String> = []

    /// Fails when `value` is not an object.
    public init(_ value: JSONValue, path: String = "") throws(FieldError) {
        guard case .object(let members) = value else {
            throw FieldError(path.isEmpty ? "<root>" : path, "Invalid value: expected object, got \(value.typeName)")
        }
        self.path = path
        self.members = members
    }

    /// The path of member `key`.
    public func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Whether `key` is present and not null.
    public func has(_ key: String) -> Bool {
        if let value = members[key], value != .null { return true }
        return false
    }

    /// The raw member, marked as read; nil when absent or null.
    public mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    public mutating func string(_ key: String) throws(FieldError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let s) = value else { throw wrongType(key, "string", value) }
        return s
    }

    public mutating func bool(_ key: String) throws(FieldError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let b) = value else { throw wrongType(key, "boolean", value) }
        return b
    }

    public mutating func int(_ key: String) throws(FieldError) -> Int? {
        guard let value = value(key) else { return nil }
        guard let i = value.intValue, let int = Int(exactly: i) else { throw wrongType(key, "integer", value) }
        return int
    }

    public mutating func double(_ key: String) throws(FieldError) -> Double? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw wrongType(key, "number", value)
        }
    }

    /// A string or a number given as text (`128`, `uniform:1,2`), for fields that accept either.
    public mutating func scalarText(_ key: String) throws(FieldError) -> String? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        default: throw wrongType(key, "string or number", value)
        }
    }

    /// A nested object's reader.
    public mutating func object(_ key: String) throws(FieldError) -> ConfigReader? {
        guard let value = value(key) else { return nil }
        return try ConfigReader(value, path: path(key))
    }

    /// A list's elements with their paths (`load.stages[1]`).
    public mutating func array(_ key: String) throws(FieldError) -> [(path: String, value: JSONValue)]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw wrongType(key, "array", value) }
        return items.enumerated().map { ("\(path(key))[\($0.offset)]", $0.element) }
    }

    /// A map of strings (`headers: {name: value}`), in key order.
    public mutating func stringMap(_ key: String) throws(FieldError) -> [(String, String)]? {
        guard let value = value(key) else { return nil }
        guard case .object(let members) = value else { throw wrongType(key, "object", value) }
        var result: [(String, String)] = []
        for name in members.keys.sorted() {
            switch members[name] {
            case .string(let s): result.append((name, s))
            case .int(let i): result.append((name, String(i)))
            case .bool(let b): result.append((name, String(b)))
            case let other?:
                throw FieldError("\(path(key)).\(name)", "Invalid value: expected string, got \(other.typeName)")
            case nil: break
            }
        }
        return result
    }

    /// Fails on the first member that was never read.
    public func finish() throws(FieldError) {
        if let unknown = members.keys.sorted().first(where: { !read.contains($0) }) {
            throw FieldError.unknownField(path(unknown))
        }
    }

    private func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> FieldError {
        FieldError(path(key), "Invalid value: expected \(expected), got \(value.typeName)")
    }
}
