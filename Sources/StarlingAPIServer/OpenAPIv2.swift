import Foundation
import StarlingAPI

/// `/openapi/v2`, which kubectl before 1.27 fetches before `apply` (a 404 fails the command). JSON clients get a
/// Swagger 2.0 document whose definitions are every kind's schema, tagged with its group, version and kind;
/// kubectl asks for gnostic's protobuf encoding and gets the same document without definitions, so it leaves
/// validation to the server (which names fields the way kube-apiserver does). As kube-openapi's handler, the
/// protobuf answer's content type is `application/octet-stream` (Go's MIME parser refuses the `@` in the media
/// type kubectl asks for).
enum OpenAPIv2 {
    static func wantsProtobuf(_ accept: String?) -> Bool { accept?.contains("protobuf") == true }

    /// Both encodings, built once (naming the server's `/version`): the kinds do not change while it runs.
    static let json = document(version: Discovery.gitVersion)
    static let protobufDocument = protobuf(version: Discovery.gitVersion)

    /// The JSON document.
    static func document(version: String) -> JSONValue {
        var definitions: [String: JSONValue] = [:]
        for type in ResourceTypes.all {
            let d = type.descriptor
            guard var schema = try? OpenAPISchema.ofResource(type) else { continue }
            schema["x-kubernetes-group-version-kind"] = .array([
                .object(["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)])
            ])
            let prefix =
                d.group.isEmpty ? "io.k8s.api.core" : d.group.split(separator: ".").reversed().joined(separator: ".")
            definitions["\(prefix).\(d.version).\(d.kind)"] = schema
        }
        return .object([
            "swagger": .string("2.0"), "info": .object(["title": .string("Starling"), "version": .string(version)]),
            "paths": .object([:]), "definitions": .object(definitions),
        ])
    }

    /// gnostic's `openapi_v2.Document` in protobuf: `swagger` (field 1) and `info` (field 2: title 1, version 2),
    /// written by hand — the two strings need no more than protobuf's length-delimited fields.
    static func protobuf(version: String) -> Data {
        func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
            [number << 3 | 2] + varint(bytes.count) + bytes
        }
        func varint(_ value: Int) -> [UInt8] {
            var value = value
            var out: [UInt8] = []
            repeat {
                var byte = UInt8(value & 0x7f)
                value >>= 7
                if value > 0 { byte |= 0x80 }
                out.append(byte)
            } while value > 0
            return out
        }
        let info = field(1, Array("Starling".utf8)) + field(2, Array(version.utf8))
        return Data(field(1, Array("2.0".utf8)) + field(2, info))
    }
}
