import Foundation
import Logging
import StarlingAPI
import Testing

@testable import StarlingAPIServer
@testable import StarlingClient

@Suite struct InformerTests {
    @Test func cacheFollowsCreatesAndDeletes() async throws {
        let store = try ObjectStore(path: nil, historyLimit: 3)
        let (ports, cont) = AsyncStream<Int>.makeStream()
        let server = APIServer(
            store: store, configuration: APIServerConfiguration(token: nil), onListening: { cont.yield($0) })
        let serverTask = Task { try await server.run() }
        defer { serverTask.cancel() }
        var port = 0
        for await p in ports {
            port = p
            break
        }
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
