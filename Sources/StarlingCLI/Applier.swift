import Foundation
import StarlingAPI
import StarlingClient

/// `apply`: creates each object in a manifest or merges it into the existing one.
struct Applier {
    let client: KubeClient

    /// Applies every document of `file` (`-` for stdin); returns a line per object, as kubectl prints them.
    func apply(file: String, namespace: String? = nil) async throws -> [String] {
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let t = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("cannot read \(file)")
            }
            text = t
        }
        return try await apply(text: text, source: file, namespace: namespace)
    }

    /// Applies every document of manifest text; `source` names it in errors.
    func apply(text: String, source: String, namespace: String? = nil) async throws -> [String] {
        let docs = try ManifestDecoder.documents(from: text, source: source)
        // Check every document before changing anything.
        var typed: [(ManifestDocument, any KubernetesResource.Type)] = []
        for doc in docs {
            let type = try ManifestDecoder.resourceType(of: doc)
            try validate(doc, as: type)
            typed.append((doc, type))
        }
        var lines: [String] = []
        for (doc, type) in typed {
            lines.append(try await apply(doc, descriptor: type.descriptor, namespace: namespace))
        }
        return lines
    }

    private func validate<T: KubernetesResource>(_ doc: ManifestDocument, as type: T.Type) throws {
        do {
            _ = try ObjectDecoding.decode(doc.value, as: T.self)
        } catch {
            throw CLIError("\(doc.source): \(error)")
        }
    }

    private func apply(
        _ doc: ManifestDocument, descriptor d: ResourceDescriptor, namespace: String?
    ) async throws -> String {
        guard let name = doc.name, !name.isEmpty else { throw CLIError("\(doc.source): metadata.name: Required value") }
        let ns = doc.value.value(atPath: "metadata.namespace")?.stringValue ?? namespace
        let label = d.group.isEmpty ? d.singular : "\(d.singular).\(d.group)"
        var body = doc.value
        let status = body["status"]
        if d.hasStatus { body["status"] = nil }
        do {
            let current = try await client.getRaw(d, namespace: ns, name: name)
            let patched = try await client.patchRaw(d, namespace: ns, name: name, patch: body)
            var changed =
                patched.value(atPath: "metadata.resourceVersion") != current.value(atPath: "metadata.resourceVersion")
            if d.hasStatus, let status, d.kind == "Node" {
                let after = try await client.patchRaw(
                    d, namespace: ns, name: name, patch: .object(["status": status]), subresource: "status")
                changed =
                    changed
                    || after.value(atPath: "metadata.resourceVersion")
                        != patched.value(atPath: "metadata.resourceVersion")
            }
            return "\(label)/\(name) \(changed ? "configured" : "unchanged")"
        } catch let s as Status where s.isNotFound {
            _ = try await client.createRaw(d, namespace: ns, object: body)
            if d.hasStatus, let status, d.kind == "Node" {
                _ = try await client.patchRaw(
                    d, namespace: ns, name: name, patch: .object(["status": status]), subresource: "status")
            }
            return "\(label)/\(name) created"
        }
    }
}
