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

    /// An object created for owners that are all gone (a controller acting on a stale cache) is collected at once;
    /// one with an owner still present stays.
    @Test func anObjectMadeForAGoneOwnerIsCollectedAtOnce() async throws {
        try await withAPIServer { client, _ in
            var claim = ResourceClaim(
                metadata: ObjectMeta(name: "late", namespace: "default"),
                spec: ResourceClaimSpec(requests: [
                    DeviceRequest(name: "r", exactly: ExactDeviceRequest(deviceClassName: "gpu.starling.dev"))
                ]))
            claim.metadata.ownerReferences = [
                OwnerReference(apiVersion: "v1", kind: "Pod", name: "gone", uid: "no-such-uid", controller: true)
            ]
            let created = try await client.create(claim)
            #expect(created.metadata.uid != nil)
            await #expect(throws: Status.self) {
                _ = try await client.get(ResourceClaim.self, namespace: "default", name: "late")
            }
            let node = try await client.create(Node(metadata: ObjectMeta(name: "n")))
            claim.metadata.ownerReferences?.append(node.ownerReference())
            _ = try await client.create(claim)
            #expect(
                try await client.get(ResourceClaim.self, namespace: "default", name: "late").metadata.name == "late")
        }
    }
}
