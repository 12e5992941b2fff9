import Logging
import StarlingAPI
import StarlingClient

/// Publishes a node's accelerators as DRA ResourceSlices (`GPUInventory`), as a DRA driver's kubelet plugin does:
/// the pool's slices are created or replaced at a new generation when they change, and slices of the node's pool
/// that are no longer published are deleted. On an API server without `resource.k8s.io/v1` it does nothing.
public struct ResourceSlicePublisher: Sendable {
    let client: any KubeAPI
    let logger: Logger

    /// The requests publishing makes.
    public static let apiAccess: [APIAccess] = APIAccess.on(
        ResourceSlice.descriptor, "list", "create", "update", "delete")

    public init(client: any KubeAPI, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Publishes the devices of `nodes`; returns how many slices were written.
    @discardableResult
    public func publish(_ nodes: [Node]) async throws -> Int {
        guard try await client.serves(ResourceSlice.descriptor) else { return 0 }
        let existing = try await client.list(ResourceSlice.self).items.filter {
            $0.spec.driver == GPUInventory.driver
        }
        var written = 0
        for node in nodes {
            let name = node.metadata.nameOrEmpty
            let mine = existing.filter { $0.spec.nodeName == name }
            let generation = mine.map(\.spec.pool.generation).max() ?? 0
            let byName = Dictionary(mine.map { ($0.metadata.nameOrEmpty, $0) }, uniquingKeysWith: { a, _ in a })
            let inventory = GPUInventory(node: node)
            let same = inventory?.resourceSlices(generation: generation) ?? []
            // Unchanged devices keep their generation; any change publishes the whole pool at the next one.
            let unchanged =
                same.count == mine.count && same.allSatisfy { byName[$0.metadata.nameOrEmpty]?.spec == $0.spec }
            if unchanged { continue }
            let desired = inventory?.resourceSlices(generation: mine.isEmpty ? 0 : generation + 1) ?? []
            for slice in desired {
                if var current = byName[slice.metadata.nameOrEmpty] {
                    current.spec = slice.spec
                    _ = try await client.update(current)
                } else {
                    _ = try await client.create(slice)
                }
                written += 1
            }
            let kept = Set(desired.map { $0.metadata.nameOrEmpty })
            for stale in mine where !kept.contains(stale.metadata.nameOrEmpty) {
                try await client.delete(ResourceSlice.self, name: stale.metadata.nameOrEmpty)
            }
            logger.info(
                "published devices",
                metadata: [
                    "node": "\(name)", "slices": "\(desired.count)",
                    "devices": "\(desired.reduce(0) { $0 + ($1.spec.devices?.count ?? 0) })",
                ])
        }
        return written
    }
}
