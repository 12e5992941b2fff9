import Foundation
import Logging
import StarlingAPI
import StarlingTestSupport
import Testing

@testable import StarlingAPIServer
@testable import StarlingClient

/// Runs an API server for `store` on `port` (0: any) until it is stopped.
func serve(_ store: ObjectStore, port: Int) async throws -> (RunningService, Int) {
    try await EmbeddedAPIServer.start(store: store, port: port)
}

@Suite struct InformerTests {
    @Test func cacheFollowsCreatesAndDeletes() async throws {
        let store = try ObjectStore(path: nil, historyLimit: 3)
        let (server, port) = try await serve(store, port: 0)
        defer { server.stopSoon() }
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)"))
        let node = Node(metadata: ObjectMeta(name: "n0"))
        _ = try await client.create(node)
        let informer = Informer<Node>(client: client)
        let task = Task { await informer.run() }
        defer { task.cancel() }
        await informer.waitForSync()
        #expect(await informer.list().map(\.metadata.nameOrEmpty) == ["n0"])
        for i in 1...5 { _ = try await client.create(Node(metadata: ObjectMeta(name: "n\(i)"))) }
        try await client.delete(Node.self, name: "n0")
        let deadline = ContinuousClock.now + .seconds(10)
        let expected = ["n1", "n2", "n3", "n4", "n5"]
        while ContinuousClock.now < deadline,
            await informer.list().map(\.metadata.nameOrEmpty).sorted() != expected
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await informer.list().map(\.metadata.nameOrEmpty).sorted() == ["n1", "n2", "n3", "n4", "n5"])
        #expect(await informer.get(ObjectKey(namespace: nil, name: "n3")) != nil)
    }
}

@Suite struct InformerRelistTests {
    @Test func relistsWhenItsVersionHasExpired() async throws {
        let store = try ObjectStore(path: nil, historyLimit: 3)
        var (server, port) = try await serve(store, port: 0)
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)"))
        _ = try await client.create(Node(metadata: ObjectMeta(name: "old")))
        let informer = Informer<Node>(client: client)
        let task = Task { await informer.run() }
        defer { task.cancel() }
        await informer.waitForSync()
        // While the server is down, history moves past the informer's version.
        await server.stop()
        _ = try await store.delete(Node.descriptor, namespace: nil, name: "old")
        for i in 0..<10 {
            _ = try await store.create(
                Node.descriptor, namespace: nil, body: .object(["metadata": .object(["name": .string("n\(i)")])]))
        }
        (server, _) = try await serve(store, port: port)
        defer { server.stopSoon() }
        let expected = (0..<10).map { "n\($0)" }
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline, await informer.list().map(\.metadata.nameOrEmpty).sorted() != expected {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await informer.list().map(\.metadata.nameOrEmpty).sorted() == expected)
    }
}
