import Foundation

/// Turns documents into typed objects with errors that name the field path, and finds fields the type does not
/// know (which are rejected rather than silently dropped).
public enum ObjectDecoding {
    /// Decodes `value` as `T`, checking for unknown fields and running `validate()`.
    public static func decode<T: KubernetesResource>(
        _ value: JSONValue, as type: T.Type, validate: Bool = true
    ) throws(ValidationError) -> T {
        let name = value.value(atPath: "metadata.name")?.stringValue ?? ""
        let object: T
        do {
            object = try value.decode(as: T.self)
        } catch let error as DecodingError {
            throw ValidationError(kind: T.descriptor.kind, name: name, errors: [fieldError(from: error)])
        } catch {
            throw ValidationError(kind: T.descriptor.kind, name: name, errors: [FieldError("<root>", "\(error)")])
        }
        var errors: [FieldError] = []
        if let canonical = try? JSONValue(encoding: object) {
            errors += unknownFields(in: value, comparedTo: canonical, path: "")
        }
        if validate {
            errors += object.metadata.validate(path: "metadata")
            errors += object.validate()
        }
        if !errors.isEmpty { throw ValidationError(kind: T.descriptor.kind, name: name, errors: errors) }
        return object
    }

    /// Paths present in `original` but not in `canonical` (what survived a typed round trip).
    public static func unknownFields(
        in original: JSONValue, comparedTo canonical: JSONValue, path: String
    ) -> [FieldError] {
        switch (original, canonical) {
        case (.object(let o), .object(let c)):
            var errors: [FieldError] = []
            for key in o.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard let ov = o[key] else { continue }
                if case .null = ov { continue }
                if let cv = c[key] {
                    errors += unknownFields(in: ov, comparedTo: cv, path: child)
                } else if !ignoredFields.contains(child) {
                    errors.append(.unknownField(child))
                }
            }
            return errors
        case (.array(let o), .array(let c)):
            var errors: [FieldError] = []
            for (i, ov) in o.enumerated() where i < c.count {
                errors += unknownFields(in: ov, comparedTo: c[i], path: "\(path)[\(i)]")
            }
            return errors
        default:
            return []
        }
    }

    /// Server-managed fields clients may echo back that Starling does not keep.
    static let ignoredFields: Set<String> = ["metadata.managedFields", "metadata.selfLink"]

    /// A field error from a decoding error, with the coding path as a dotted field path.
    public static func fieldError(from error: DecodingError) -> FieldError {
        func render(_ path: [any CodingKey]) -> String {
            var out = ""
            for key in path {
                if let i = key.intValue {
                    out += "[\(i)]"
                } else {
                    out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return out.isEmpty ? "<root>" : out
        }
        switch error {
        case .typeMismatch(let type, let ctx):
            return FieldError(render(ctx.codingPath), "Invalid value: expected \(typeName(type))")
        case .valueNotFound(_, let ctx):
            return .required(render(ctx.codingPath))
        case .keyNotFound(let key, let ctx):
            return .required(render(ctx.codingPath + [key]))
        case .dataCorrupted(let ctx):
            return FieldError(render(ctx.codingPath), ctx.debugDescription)
        @unknown default:
            return FieldError("<root>", "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "integer"
        case is Double.Type: return "number"
        case is Bool.Type: return "boolean"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "array" }
            if name.hasPrefix("Dictionary") { return "object" }
            return "object"
        }
    }
}
