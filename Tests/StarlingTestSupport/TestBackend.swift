import Foundation
import StarlingAPI
import StarlingAPIServer
import StarlingClient
import StarlingManifests
import Testing

/// The two API servers Starling's components run against; tests that take a `TestBackend` run the same body on both.
public enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// Starling's embedded API server, started for the test.
    case embedded
    /// A real kube-apiserver (v1.20) from `scripts/kube-testenv`, shared by the test process.
    case kubernetes

    public var testDescription: String { rawValue }

    /// A client and a fresh namespace; `stop` ends what was started for this test.
    public struct Connection: Sendable {
        public var client: KubeClient
        public var namespace: String
        public var stop: @Sendable () -> Void
    }

    /// Connects a client (recording its accesses in `accessLog` when given) to a fresh namespace.
    public func connect(accessLog: APIAccessLog? = nil) async throws -> Connection {
        let namespace = "t-\(UInt32.random(in: 0...UInt32.max))"
        switch self {
        case .embedded:
            let (server, port) = try await EmbeddedAPIServer.start()
            let client = try KubeClient(
                config: KubeConfig(server: "http://127.0.0.1:\(port)", namespace: namespace), accessLog: accessLog)
            return Connection(client: client, namespace: namespace, stop: { server.stopSoon() })
        case .kubernetes:
            let cluster = try await KubeTestEnvironment.shared.start()
            try await KubeTestEnvironment.shared.installDefinitions()
            var config = try KubeConfig.load(path: cluster.kubeconfig)
            config.namespace = namespace
            let admin = try KubeClient(config: config)
            let client = try KubeClient(config: config, accessLog: accessLog)
            let body: JSONValue = .object(["metadata": .object(["name": .string(namespace)])])
            _ = try await admin.send(.POST, path: "/api/v1/namespaces", body: try body.data())
            // Pods are admitted once the namespace's default service account has its token.
            _ = try await admin.serviceAccountToken(namespace: namespace, name: "default")
            return Connection(
                client: client, namespace: namespace,
                stop: {
                    Task { _ = try? await admin.send(.DELETE, path: "/api/v1/namespaces/\(namespace)") }
                })
        }
    }
}

/// Starling's embedded API server on an OS-chosen loopback port, in memory.
public enum EmbeddedAPIServer {
    /// Starts one on `port` (0: any); stop the running service to stop it.
    public static func start(store: ObjectStore? = nil, port: Int = 0) async throws -> (RunningService, Int) {
        let store = try store ?? ObjectStore(path: nil, historyLimit: 1000)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = APIServer(
            store: store, configuration: APIServerConfiguration(port: port, token: nil),
            onListening: { continuation.yield($0) })
        let running = RunningService.start(server, label: "test.apiserver")
        var bound = 0
        for await port in ports {
            bound = port
            break
        }
        return (running, bound)
    }
}
