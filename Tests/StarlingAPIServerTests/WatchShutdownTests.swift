import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingAPIServer

/// A graceful shutdown ends every watch, including one a client starts again while the server is stopping.
@Suite struct WatchShutdownTests {
    static func node(_ name: String) -> JSONValue { .object(["metadata": .object(["name": .string(name)])]) }

    @Test func aWatchStartedAfterTheWatchesClosedEndsAfterItsFirstEvents() async throws {
        let store = try ObjectStore(path: nil, historyLimit: 100)
        _ = try await store.create(Node.descriptor, namespace: nil, body: Self.node("a"))
        await store.closeAllWatches()
        let (_, closed) = try await store.watch(Node.descriptor, namespace: nil, resourceVersion: nil)
        let lines = try await within(.seconds(10), "the watch to end") {
            var lines = 0
            for await _ in closed { lines += 1 }
            return lines
        }
        #expect(lines == 1, "the current object, then the end")

        await store.acceptWatches()
        let (_, open) = try await store.watch(Node.descriptor, namespace: nil, resourceVersion: nil)
        _ = try await store.create(Node.descriptor, namespace: nil, body: Self.node("b"))
        let second = try await within(.seconds(10), "the second event") {
            var iterator = open.makeAsyncIterator()
            _ = await iterator.next()
            return await iterator.next()
        }
        #expect(second != nil)
        let line = String(decoding: second ?? Data(), as: UTF8.self)
        #expect(line.contains(#""name":"b""#), "an open watch streams changes")
    }

    @Test func stoppingIsNotHeldByAnInformerThatWatchesAgain() async throws {
        let store = try ObjectStore(path: nil, historyLimit: 100)
        let (server, port) = try await EmbeddedAPIServer.start(store: store)
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)"))
        _ = try await client.create(Node(metadata: ObjectMeta(name: "a")))
        let informer = Informer<Node>(client: client)
        let watching = Task { await informer.run() }
        defer { watching.cancel() }
        await informer.waitForSync()
        // The informer watches again as soon as its watch ends; that watch used to stay open for its 5-minute
        // timeout and hold the shutdown.
        try await within(.seconds(30), "the server to stop") { await server.stop() }
    }
}
