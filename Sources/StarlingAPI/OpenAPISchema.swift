/// OpenAPI v3 schemas of Starling's types, derived from the types themselves: their `Decodable` conformance says
/// which fields exist, their types and which are required (non-optional); `StringEnum`s give their allowed values;
/// `FieldDocs` (generated from the `///` comments) gives descriptions; `OpenAPISchemaHinting` adds bounds and
/// formats. The result is a structural schema, as CustomResourceDefinitions need.
public enum OpenAPISchema {
    /// The schema of `type`.
    public static func of<T: Decodable>(_ type: T.Type) throws -> JSONValue {
        try SchemaRecorder.record(type, depth: 0, path: [String(describing: type)]).0
    }

    /// The schema of a kind as a CustomResourceDefinition version holds it: `metadata` left to the API server
    /// (a CRD may declare only its type), `apiVersion` and `kind` as strings.
    public static func ofResource<T: KubernetesResource>(_ type: T.Type) throws -> JSONValue {
        var schema = try of(type)
        guard var properties = schema["properties"]?.objectValue else { return schema }
        properties["metadata"] = .object(["type": .string("object")])
        schema["properties"] = .object(properties)
        if let required = schema["required"]?.arrayValue {
            let kept = required.filter { $0 != .string("apiVersion") && $0 != .string("kind") }
            schema["required"] = kept.isEmpty ? nil : .array(kept)
        }
        return schema
    }
}

/// A type whose schema is written by hand rather than recorded (free-form JSON, quantities).
public protocol OpenAPISchemaProviding {
    static var openAPISchema: JSONValue { get }
}

/// A type that adds to its recorded schema: per-field bounds, formats and patterns that `validate()` enforces.
public protocol OpenAPISchemaHinting {
    /// Members merged into the schema of each named property (`"replicas": ["minimum": 0]`).
    static var schemaHints: [String: JSONValue] { get }
}

extension OpenAPISchemaHinting {
    static func applyingHints(to schema: JSONValue) -> JSONValue {
        guard var properties = schema["properties"]?.objectValue else { return schema }
        for (name, hint) in schemaHints {
            guard var property = properties[name]?.objectValue, let members = hint.objectValue else { continue }
            for (key, value) in members { property[key] = value }
            properties[name] = .object(property)
        }
        var result = schema
        result["properties"] = .object(properties)
        return result
    }
}

extension JSONValue: OpenAPISchemaProviding {
    /// Any JSON value.
    public static var openAPISchema: JSONValue {
        .object(["x-kubernetes-preserve-unknown-fields": .bool(true)])
    }
}

extension IntOrString: OpenAPISchemaProviding {
    /// A number or a name, as Kubernetes marks such fields.
    public static var openAPISchema: JSONValue { .object(["x-kubernetes-int-or-string": .bool(true)]) }
}
