/// A `Decoder` that builds no real value but records what a type's `init(from:)` asks for: the keys it reads
/// (and whether it checks them for null first, which synthesized code does for optionals), the primitive it
/// reads, or the elements of a list or map. `OpenAPISchema` turns one recording into a schema.
final class SchemaRecorder: Decoder {
    /// What one `init(from:)` read.
    enum Shape {
        case unknown
        case primitive(JSONValue)
        case object(fields: [(name: String, schema: JSONValue)], optional: Set<String>)
        case map(JSONValue)
        case array(JSONValue)
    }

    struct DepthError: Error, CustomStringConvertible {
        var path: [String]
        var description: String {
            "schema recursion deeper than \(SchemaRecorder.maxDepth) at \(path.joined(separator: ".")); give the type "
                + "an OpenAPISchemaProviding conformance"
        }
    }

    static let maxDepth = 24
    let depth: Int
    let path: [String]
    var shape: Shape = .unknown
    var readKeys = false
    /// The Swift type being recorded, for looking up its fields' descriptions.
    var typeName = ""
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(depth: Int, path: [String]) {
        self.depth = depth
        self.path = path
    }

    /// The schema of `type` and a placeholder value of it.
    static func record<T: Decodable>(_ type: T.Type, depth: Int, path: [String]) throws -> (JSONValue, T) {
        guard depth < maxDepth else { throw DepthError(path: path) }
        if let provider = type as? any OpenAPISchemaProviding.Type {
            let value = try T(from: SchemaRecorder(depth: depth + 1, path: path))
            return (provider.openAPISchema, value)
        }
        let recorder = SchemaRecorder(depth: depth + 1, path: path)
        recorder.typeName = String(describing: type)
        let value = try T(from: recorder)
        var schema = recorder.schema
        if let enumType = type as? any StringEnum.Type {
            schema = .object([
                "type": .string("string"), "enum": .array(enumType.allowedValues.map { .string($0) }),
            ])
        }
        if let hinted = type as? any OpenAPISchemaHinting.Type {
            schema = hinted.applyingHints(to: schema)
        }
        if let description = FieldDocs.typeDocs[String(describing: type)], schema["description"] == nil {
            schema["description"] = .string(description)
        }
        return (schema, value)
    }

    var schema: JSONValue {
        switch shape {
        case .unknown:
            return .object(["type": .string("object"), "x-kubernetes-preserve-unknown-fields": .bool(true)])
        case .primitive(let schema):
            return schema
        case .array(let items):
            return .object(["type": .string("array"), "items": items])
        case .map(let values):
            return .object(["type": .string("object"), "additionalProperties": values])
        case .object(let fields, let optional):
            if readKeys, let first = fields.first {
                return .object(["type": .string("object"), "additionalProperties": first.schema])
            }
            var properties: [String: JSONValue] = [:]
            for field in fields {
                var schema = field.schema
                if let doc = FieldDocs.fieldDocs["\(typeName).\(field.name)"] {
                    schema["description"] = .string(doc)
                }
                properties[field.name] = schema
            }
            var result: JSONValue = .object(["type": .string("object"), "properties": .object(properties)])
            let required = fields.map(\.name).filter { !optional.contains($0) }
            if !required.isEmpty { result["required"] = .array(required.map { .string($0) }) }
            return result
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if case .unknown = shape { shape = .object(fields: [], optional: []) }
        return KeyedDecodingContainer(KeyedRecorder<Key>(recorder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { UnkeyedRecorder(recorder: self) }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleRecorder(recorder: self) }

    func addField(_ name: String, _ schema: JSONValue) {
        guard case .object(var fields, let optional) = shape else { return }
        if !fields.contains(where: { $0.name == name }) { fields.append((name, schema)) }
        shape = .object(fields: fields, optional: optional)
    }

    func markOptional(_ name: String) {
        guard case .object(let fields, var optional) = shape else { return }
        optional.insert(name)
        shape = .object(fields: fields, optional: optional)
    }

    static func isPrimitive(_ type: Any.Type) -> Bool {
        let primitives: [Any.Type] = [
            String.self, Bool.self, Double.self, Float.self, Int.self, Int8.self, Int16.self, Int32.self, Int64.self,
            UInt.self, UInt8.self, UInt16.self, UInt32.self, UInt64.self,
        ]
        return primitives.contains { $0 == type }
    }

    /// The schema and a zero value of a primitive type (`isPrimitive`).
    func primitive<T>(_ type: T.Type) -> (JSONValue, T) {
        switch type {
        case is String.Type: return (.object(["type": .string("string")]), "" as! T)
        case is Bool.Type: return (.object(["type": .string("boolean")]), false as! T)
        case is Double.Type: return (.object(["type": .string("number"), "format": .string("double")]), 0.0 as! T)
        case is Float.Type: return (.object(["type": .string("number"), "format": .string("float")]), Float(0) as! T)
        case is Int32.Type, is UInt32.Type, is Int16.Type, is UInt16.Type, is Int8.Type, is UInt8.Type:
            let zero: Any =
                switch type {
                case is Int32.Type: Int32(0)
                case is UInt32.Type: UInt32(0)
                case is Int16.Type: Int16(0)
                case is UInt16.Type: UInt16(0)
                case is Int8.Type: Int8(0)
                default: UInt8(0)
                }
            return (.object(["type": .string("integer"), "format": .string("int32")]), zero as! T)
        default:
            let zero: Any =
                switch type {
                case is Int64.Type: Int64(0)
                case is UInt64.Type: UInt64(0)
                case is UInt.Type: UInt(0)
                default: 0
                }
            return (.object(["type": .string("integer"), "format": .string("int64")]), zero as! T)
        }
    }
}

/// Keys a recording returns when a type asks for every key (a dictionary): one stand-in key.
private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let recorder: SchemaRecorder
    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] {
        recorder.readKeys = true
        return Key(stringValue: "*").map { [$0] } ?? []
    }

    func contains(_ key: Key) -> Bool { true }

    func decodeNil(forKey key: Key) throws -> Bool {
        recorder.markOptional(key.stringValue)
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (schema, value) = try SchemaRecorder.record(
            type, depth: recorder.depth, path: recorder.path + [key.stringValue])
        recorder.addField(key.stringValue, schema)
        return value
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String { try primitive(type, key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try primitive(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try primitive(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try primitive(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try primitive(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try primitive(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try primitive(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try primitive(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try primitive(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try primitive(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try primitive(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try primitive(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try primitive(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try primitive(type, key) }

    private func primitive<T>(_ type: T.Type, _ key: Key) throws -> T {
        let (schema, value) = recorder.primitive(type)
        recorder.addField(key.stringValue, schema)
        return value
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.dataCorruptedError(
            forKey: key, in: self, debugDescription: "nested containers are not recorded")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.dataCorruptedError(
            forKey: key, in: self, debugDescription: "nested containers are not recorded")
    }

    func superDecoder() throws -> any Decoder { recorder }
    func superDecoder(forKey key: Key) throws -> any Decoder { recorder }
}

/// Reports one element, so an array's `init(from:)` records its element type once and stops.
private struct UnkeyedRecorder: UnkeyedDecodingContainer {
    let recorder: SchemaRecorder
    var codingPath: [any CodingKey] { [] }
    var count: Int? { nil }
    var currentIndex = 0
    var isAtEnd: Bool { currentIndex > 0 }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (schema, value) = try SchemaRecorder.record(type, depth: recorder.depth, path: recorder.path + ["[]"])
        recorder.shape = .array(schema)
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.dataCorruptedError(in: self, debugDescription: "nested containers are not recorded")
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.dataCorruptedError(in: self, debugDescription: "nested containers are not recorded")
    }

    mutating func superDecoder() throws -> any Decoder { recorder }
}

private struct SingleRecorder: SingleValueDecodingContainer {
    let recorder: SchemaRecorder
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if SchemaRecorder.isPrimitive(type) {
            let (schema, value) = recorder.primitive(type)
            recorder.shape = .primitive(schema)
            return value
        }
        let (schema, value) = try SchemaRecorder.record(type, depth: recorder.depth, path: recorder.path)
        recorder.shape = .primitive(schema)
        return value
    }
}
