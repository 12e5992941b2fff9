import Foundation
import StarlingAPI
import StarlingClient
import Testing

@testable import StarlingAPIServer

/// Dependents whose owners are gone are deleted at start-up, as kube's garbage collector would: what a crash
/// between an owner's removal and its dependents' left (before deletions cascaded in one transaction).
@Suite struct GarbageCollectionTests {
    @Test func orphansAreCollectedAndOwnedObjectsKept() async throws {
        try await withAPIServer { client, store in
            let owner = try await client.create(
                ModelService(
                    metadata: ObjectMeta(name: "owner", namespace: "default"),
                    spec: ModelServiceSpec(model: "m", server: ServerSpec(engine: .command, command: ["x"]))))
            var orphan = Pod(
                metadata: ObjectMeta(name: "orphan", namespace: "default"),
                spec: PodSpec(containers: [Container(name: "c", command: ["x"])]))
            orphan.metadata.ownerReferences = [owner.ownerReference()]
            _ = try await client.create(orphan)
            var kept = orphan
            kept.metadata.name = "kept"
            let node = try await client.create(Node(metadata: ObjectMeta(name: "n")))
            kept.metadata.ownerReferences = [owner.ownerReference(), node.ownerReference()]
            _ = try await client.create(kept)
            // The owner's row goes without its cascade, as if the process had died right after.
            let handler = try await store.handler(for: ModelService.descriptor)
            let stored = try JSONValue.parse(
                try await store.get(ModelService.descriptor, namespace: "default", name: "owner"))
            _ = try await store.write(handler, stored, type: .deleted, previous: nil)
            #expect(try await client.list(Pod.self, namespace: "default").items.count == 2)
            #expect(try await store.collectGarbage() == 1)
            let left = try await client.list(Pod.self, namespace: "default").items.map(\.metadata.nameOrEmpty)
            #expect(left == ["kept"], "one owner (the node) remains")
            #expect(try await store.collectGarbage() == 0)
        }
    }
}
