import Foundation
import Logging
import StarlingAPI
import StarlingClient
import StarlingServerLimits
import StarlingTestSupport

@testable import StarlingAPIServer

/// Runs an API server on a free loopback port for the duration of `body`, then stops it.
func withAPIServer<T: Sendable>(
    token: String? = "test-token", historyLimit: Int = 10_000, bookmarkInterval: Duration = .seconds(15),
    path: String? = nil, limits: ObjectLimits = .default, _ body: @Sendable (KubeClient, ObjectStore) async throws -> T
) async throws -> T {
    try await withAPIServer(
        token: token, historyLimit: historyLimit, bookmarkInterval: bookmarkInterval, path: path, limits: limits
    ) { client, store, _ in try await body(client, store) }
}

/// The bound port of a test server and its body budget.
struct RunningServer: Sendable {
    var port: Int
    var bodies: ByteBudget
    var connections: ConnectionCounter
}

/// `withAPIServer` with connection limits, and the running server given to `body`.
func withAPIServer<T: Sendable>(
    token: String? = "test-token", historyLimit: Int = 10_000, bookmarkInterval: Duration = .seconds(15),
    path: String? = nil, limits: ObjectLimits = .default, connectionLimits: ConnectionLimits = .apiServer,
    maxBodyBytes: Int = 3 * 1024 * 1024, _ body: @Sendable (KubeClient, ObjectStore, RunningServer) async throws -> T
) async throws -> T {
    let store = try ObjectStore(path: path, historyLimit: historyLimit, limits: limits)
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    var logger = Logger(label: "test.apiserver")
    logger.logLevel = .critical
    let server = APIServer(
        store: store,
        configuration: APIServerConfiguration(
            port: 0, token: token, bookmarkInterval: bookmarkInterval, maxBodyBytes: maxBodyBytes,
            limits: connectionLimits),
        logger: logger, onListening: { portContinuation.yield($0) })
    let running = RunningService.start(server, label: "test.apiserver")
    defer { running.stopSoon() }
    var port = 0
    for await p in ports {
        port = p
        break
    }
    let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)", token: token))
    let result = try await body(
        client, store, RunningServer(port: port, bodies: server.bodies, connections: server.connections))
    await running.stop()
    return result
}

/// Builders for API objects used by the tests.
enum Objects {
    static func service(_ name: String, replicas: Int = 1) -> ModelService {
        ModelService(
            metadata: ObjectMeta(name: name, namespace: "default"),
            spec: ModelServiceSpec(model: "m", replicas: replicas, server: ServerSpec(engine: .command, command: ["x"]))
        )
    }

    static func pod(_ name: String, owner: (any KubernetesResource)? = nil, labels: [String: String]? = nil) -> Pod {
        var meta = ObjectMeta(name: name, namespace: "default", labels: labels)
        if let owner {
            meta.ownerReferences = [
                OwnerReference(
                    apiVersion: "starling.dev/v1alpha1", kind: "ModelService", name: owner.metadata.nameOrEmpty,
                    uid: owner.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
            ]
        }
        return Pod(metadata: meta, spec: PodSpec(containers: [Container(name: "c", command: ["sleep", "1"])]))
    }
}

/// Waits (bounded) for `condition` to hold, polling.
func eventually(
    timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
