import Foundation
import Yams

/// One document of a manifest file, still generic.
public struct ManifestDocument: Sendable, Equatable {
    /// Where the document came from (`file.yaml#2`), for error messages.
    public var source: String
    public var value: JSONValue

    public var apiVersion: String? { value["apiVersion"]?.stringValue }
    public var kind: String? { value["kind"]?.stringValue }
    public var name: String? { value.value(atPath: "metadata.name")?.stringValue }
}

/// An error reading a manifest: which document, and what is wrong.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var message: String
    public init(source: String, message: String) {
        self.source = source
        self.message = message
    }
    public var description: String { "\(source): \(message)" }
}

/// Reads YAML or JSON manifests, one or many documents, and `List` objects.
public enum ManifestDecoder {
    /// Splits `text` into documents. JSON is YAML, so one parser serves both.
    public static func documents(from text: String, source: String) throws(ManifestError) -> [ManifestDocument] {
        var result: [ManifestDocument] = []
        do {
            var index = 0
            // Yams.compose_all stops silently at a parse error; the parser itself throws.
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                index += 1
                let where_ = "\(source)#\(index)"
                let value: JSONValue
                do {
                    value = try YAMLDecoder().decode(JSONValue.self, from: node)
                } catch {
                    throw ManifestError(source: where_, message: "not a valid document: \(error)")
                }
                if case .null = value { continue }
                guard case .object = value else {
                    throw ManifestError(source: where_, message: "expected an object, got \(value.typeName)")
                }
                if value["kind"]?.stringValue?.hasSuffix("List") == true, let items = value["items"]?.arrayValue {
                    for (i, item) in items.enumerated() {
                        result.append(ManifestDocument(source: "\(where_).items[\(i)]", value: item))
                    }
                } else {
                    result.append(ManifestDocument(source: where_, value: value))
                }
            }
        } catch let error as ManifestError {
            throw error
        } catch {
            throw ManifestError(source: source, message: "cannot parse YAML or JSON: \(error)")
        }
        return result
    }

    /// The type a document declares, or an error naming `apiVersion` / `kind`.
    public static func resourceType(
        of document: ManifestDocument
    ) throws(ManifestError)
        -> any KubernetesResource.Type
    {
        guard let apiVersion = document.apiVersion else {
            throw ManifestError(source: document.source, message: "apiVersion: Required value")
        }
        guard let kind = document.kind else {
            throw ManifestError(source: document.source, message: "kind: Required value")
        }
        guard let type = ResourceTypes.type(apiVersion: apiVersion, kind: kind) else {
            let known = ResourceTypes.all.map { "\($0.descriptor.apiVersion) \($0.descriptor.kind)" }
            throw ManifestError(
                source: document.source,
                message: "no kind \"\(kind)\" is registered for version \"\(apiVersion)\"; known: "
                    + known.joined(separator: ", "))
        }
        return type
    }
}
