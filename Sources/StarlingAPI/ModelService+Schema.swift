/// Bounds and formats `validate()` enforces, repeated in the schema so that a kube-apiserver rejects the same
/// values with the same field paths before Starling sees them.
extension ModelServiceSpec: OpenAPISchemaHinting {
    public static var schemaHints: [String: JSONValue] {
        ["model": .object(["minLength": .int(1)]), "replicas": .object(["minimum": .int(0), "default": .int(1)])]
    }
}

extension GroupSpec: OpenAPISchemaHinting {
    public static var schemaHints: [String: JSONValue] { ["size": .object(["minimum": .int(1)])] }
}

extension AcceleratorSpec: OpenAPISchemaHinting {
    public static var schemaHints: [String: JSONValue] {
        ["type": .object(["minLength": .int(1)]), "count": .object(["minimum": .int(0)])]
    }
}

extension ServerSpec: OpenAPISchemaHinting {
    public static var schemaHints: [String: JSONValue] {
        [
            "port": .object(["minimum": .int(1), "maximum": .int(65535)]),
            "readinessPath": .object(["pattern": .string("^/")]),
            "metricsPath": .object(["pattern": .string("^/")]),
        ]
    }
}
