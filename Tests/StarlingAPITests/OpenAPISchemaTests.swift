import Testing

@testable import StarlingAPI

@Suite struct OpenAPISchemaTests {
    struct Inner: Codable {
        var name: String
        var weight: Double?
    }

    struct Sample: Codable {
        var count: Int
        var big: Int64?
        var flag: Bool?
        var tags: [String]?
        var labels: [String: String]?
        var inner: Inner
        var inners: [Inner]?
        var free: JSONValue?
        var engine: Engine?
    }

    @Test func recordsFieldsTypesAndRequired() throws {
        let schema = try OpenAPISchema.of(Sample.self)
        #expect(schema["type"] == .string("object"))
        #expect(schema["required"] == .array([.string("count"), .string("inner")]))
        let p = try #require(schema["properties"])
        #expect(p["count"] == .object(["type": .string("integer"), "format": .string("int64")]))
        #expect(p["flag"]?["type"] == .string("boolean"))
        #expect(p["tags"] == .object(["type": .string("array"), "items": .object(["type": .string("string")])]))
        #expect(p["labels"]?["additionalProperties"] == .object(["type": .string("string")]))
        #expect(p["inner"]?["required"] == .array([.string("name")]))
        #expect(p["inner"]?["properties"]?["weight"]?["type"] == .string("number"))
        #expect(p["inners"]?["items"]?["properties"]?["name"]?["type"] == .string("string"))
        #expect(p["free"] == .object(["x-kubernetes-preserve-unknown-fields": .bool(true)]))
        #expect(p["engine"]?["enum"] == .array(Engine.allowedValues.map { .string($0) }))
    }

    @Test func modelServiceCarriesDocsHintsAndRequired() throws {
        let schema = try OpenAPISchema.ofResource(ModelService.self)
        #expect(schema["required"] == .array([.string("metadata"), .string("spec")]))
        #expect(schema["properties"]?["metadata"] == .object(["type": .string("object")]))
        let spec = try #require(schema["properties"]?["spec"])
        #expect(spec["required"] == .array([.string("model"), .string("server")]))
        #expect(spec["properties"]?["replicas"]?["minimum"] == .int(0))
        #expect(spec["properties"]?["model"]?["description"]?.stringValue?.contains("model name") == true)
        let server = try #require(spec["properties"]?["server"])
        #expect(server["properties"]?["port"]?["maximum"] == .int(65535))
        #expect(
            server["properties"]?["engine"]?["enum"] == .array([.string("sim"), .string("command"), .string("image")]))
        #expect(server["description"] == .string("The model server each pod runs."))
    }

    /// Every field of every Starling kind has a description: CRDs users read with `kubectl explain` need them.
    @Test func everyModelServiceFieldIsDescribed() throws {
        var missing: [String] = []
        func walk(_ schema: JSONValue, _ path: String) {
            for (name, child) in schema["properties"]?.objectValue ?? [:] {
                let childPath = path.isEmpty ? name : "\(path).\(name)"
                if child["description"] == nil, !["apiVersion", "kind", "metadata"].contains(name) {
                    missing.append(childPath)
                }
                walk(child, childPath)
                if let items = child["items"] { walk(items, childPath + "[]") }
            }
        }
        walk(try OpenAPISchema.ofResource(ModelService.self), "")
        #expect(missing.sorted() == [], "add /// docs and run scripts/generate-field-docs")
    }
}
