extension ObjectMeta {
    /// Largest total size of an object's annotations (keys and values), as kube-apiserver allows.
    public static let maxAnnotationBytes = 256 * 1024

    /// Field errors in labels and annotations, by kube-apiserver's rules: keys are qualified names (an optional
    /// DNS-subdomain prefix and '/', then a name of at most 63 characters), label values are empty or names of at
    /// most 63 characters, and annotations total at most 256 KiB.
    public func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        for (key, value) in (labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            errors += Validation.qualifiedNameErrors(key, path: "\(path).labels")
            errors += Validation.labelValueErrors(value, path: "\(path).labels")
        }
        var annotationBytes = 0
        for (key, value) in (annotations ?? [:]).sorted(by: { $0.key < $1.key }) {
            errors += Validation.qualifiedNameErrors(key, path: "\(path).annotations")
            annotationBytes += key.utf8.count + value.utf8.count
        }
        if annotationBytes > Self.maxAnnotationBytes {
            errors.append(
                FieldError(
                    "\(path).annotations",
                    "Too long: must have at most \(Self.maxAnnotationBytes) bytes (got \(annotationBytes))"))
        }
        return errors
    }
}

extension Validation {
    static let qualifiedNameRule =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        + "character (regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

    /// Whether `value` matches `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
    static func isQualifiedNamePart(_ value: Substring) -> Bool {
        guard let first = value.first, let last = value.last else { return false }
        func alphanumeric(_ c: Character) -> Bool {
            c.isASCII && (c.isLetter || c.isNumber)
        }
        return alphanumeric(first) && alphanumeric(last)
            && value.allSatisfy { alphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// Errors for a label or annotation key: `[prefix/]name`, the prefix a DNS subdomain of at most 253
    /// characters, the name at most 63.
    public static func qualifiedNameErrors(_ key: String, path: String) -> [FieldError] {
        let shown = key.count > 80 ? "\(key.prefix(80))…" : key
        func invalid(_ why: String) -> FieldError { FieldError(path, "Invalid value: \"\(shown)\": \(why)") }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            return [
                invalid(
                    "a qualified name must consist of an optional DNS subdomain prefix and '/', then a name part")
            ]
        }
        var errors: [FieldError] = []
        let name = parts[parts.count - 1]
        if name.isEmpty {
            errors.append(invalid("name part must be non-empty"))
        } else {
            if name.count > 63 { errors.append(invalid("name part must be no more than 63 characters")) }
            if !isQualifiedNamePart(name) { errors.append(invalid("name part \(qualifiedNameRule)")) }
        }
        if parts.count == 2 {
            let prefix = parts[0]
            let label = { (s: Substring) -> Bool in
                guard let f = s.first, let l = s.last else { return false }
                let ok = { (c: Character) in (c >= "a" && c <= "z") || (c >= "0" && c <= "9") }
                return ok(f) && ok(l) && s.allSatisfy { ok($0) || $0 == "-" }
            }
            if prefix.isEmpty {
                errors.append(invalid("prefix part must be non-empty"))
            } else if prefix.count > 253
                || !prefix.split(separator: ".", omittingEmptySubsequences: false)
                    .allSatisfy(label)
            {
                errors.append(
                    invalid(
                        "prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters (e.g. 'example.com')"
                    ))
            }
        }
        return errors
    }

    /// Errors for a label value: empty, or a name of at most 63 characters.
    public static func labelValueErrors(_ value: String, path: String) -> [FieldError] {
        if value.isEmpty { return [] }
        let shown = value.count > 80 ? "\(value.prefix(80))…" : value
        var errors: [FieldError] = []
        if value.count > 63 {
            errors.append(
                FieldError(path, "Invalid value: \"\(shown)\": must be no more than 63 characters (got \(value.count))")
            )
        }
        if !isQualifiedNamePart(value[...]) {
            errors.append(
                FieldError(
                    path,
                    "Invalid value: \"\(shown)\": a valid label value must be an empty string or \(qualifiedNameRule)"
                ))
        }
        return errors
    }
}
