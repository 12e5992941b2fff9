import Foundation
import StarlingAPI
import StarlingTestSupport
import Testing

@testable import StarlingAPIServer
@testable import StarlingClient

/// One object this build cannot decode (written by another version, say) must not stall a list or a watch: it is
/// reported with its field path and left out; the others flow on.
@Suite struct UndecodableObjectTests {
    static let bad: JSONValue = .object([
        "apiVersion": .string("starling.dev/v1alpha1"), "kind": .string("ModelService"),
        "metadata": .object([
            "name": .string("future"), "namespace": .string("default"), "uid": .string("u-1"),
            "resourceVersion": .string("7"),
        ]),
        "spec": .object([
            "model": .string("m"), "replicas": .string("two"), "server": .object(["engine": .string("sim")]),
        ]),
    ])

    @Test func aWatchLineWithAnUndecodableObjectIsReportedNotThrown() throws {
        let line = try JSONValue.object(["type": .string("MODIFIED"), "object": Self.bad]).data()
        guard case .undecodable(let object) = try KubeClient.decodeWatchLine(line, as: ModelService.self) else {
            Issue.record("not reported as undecodable")
            return
        }
        #expect(object.key == ObjectKey(namespace: "default", name: "future"))
        #expect(object.uid == "u-1" && object.resourceVersion == "7" && !object.deleted)
        #expect(object.error.contains("spec.replicas"), "\(object.error)")
    }

    @Test func informerLeavesItOutAndCarriesOn() async throws {
        let store = try ObjectStore(path: nil, historyLimit: 100)
        let (server, port) = try await EmbeddedAPIServer.start(store: store)
        defer { server.stopSoon() }
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)"))
        var good = ModelServiceSpec(model: "m", server: ServerSpec(engine: .command, command: ["x"]))
        good.replicas = 1
        _ = try await client.create(ModelService(metadata: ObjectMeta(name: "good", namespace: "default"), spec: good))
        // Stored as another version of Starling might have: straight into the store, past validation.
        var bad = Self.bad
        bad["metadata"]?["resourceVersion"] = nil
        _ = try await store.write(
            try await store.handler(for: ModelService.descriptor), bad, type: .added, previous: nil)

        actor Reports {
            var keys: [String] = []
            func add(_ key: String) { keys.append(key) }
        }
        let reports = Reports()
        let informer = Informer<ModelService>(client: client)
        await informer.addUndecodableHandler { await reports.add($0.key.description) }
        let running = Task { await informer.run() }
        defer { running.cancel() }
        await informer.waitForSync()
        #expect(await informer.list().map(\.metadata.nameOrEmpty) == ["good"])
        #expect(await reports.keys == ["default/future"])
        _ = try await client.create(ModelService(metadata: ObjectMeta(name: "later", namespace: "default"), spec: good))
        try await eventually("the watch to go on") { await informer.list().count == 2 }
    }
}
