import Foundation
import StarlingAPI
import StarlingTestSupport
import Testing

@testable import StarlingClient

@Suite struct SharedInformersTests {
    /// Consumers share one informer per kind; one that arrives after the first list gets the cache replayed, and
    /// a removed handler hears nothing more.
    @Test func oneInformerPerKindWithReplayForLateHandlers() async throws {
        let (server, port) = try await EmbeddedAPIServer.start()
        defer { server.stopSoon() }
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)"))
        _ = try await client.create(Node(metadata: ObjectMeta(name: "n0")))
        let shared = SharedInformers(client: client)
        let running = Task { await shared.run() }
        defer { running.cancel() }
        let first = await shared.informer(Node.self)
        let second = await shared.informer(Node.self)
        #expect(first === second)
        _ = await shared.informer(Pod.self)
        #expect(await shared.count == 2)
        await first.waitForSync()

        actor Seen {
            var names: [String] = []
            func add(_ name: String) { names.append(name) }
        }
        let seen = Seen()
        let id = await second.addHandler { event in
            if case .added(let node) = event { await seen.add(node.metadata.nameOrEmpty) }
        }
        #expect(await seen.names == ["n0"], "the cache is replayed to a late handler")
        _ = try await client.create(Node(metadata: ObjectMeta(name: "n1")))
        try await eventually("n1 delivered") { await seen.names == ["n0", "n1"] }
        await second.removeHandler(id)
        _ = try await client.create(Node(metadata: ObjectMeta(name: "n2")))
        try await eventually("n2 cached") { await first.get(ObjectKey(namespace: nil, name: "n2")) != nil }
        #expect(await seen.names == ["n0", "n1"])
    }
}
