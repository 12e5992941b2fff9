import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import StarlingAPI
import StarlingClient
import StarlingSimulator
import StarlingTestSupport
import Testing

@testable import StarlingAPIServer
@testable import StarlingGateway

/// The gateway loses its API server and regains it: requests keep going to the endpoints it knows while the
/// server is away, and changes made meanwhile reach it once the server is back.
@Suite struct APIServerOutageTests {
    @Test func keepsRoutingWhileTheAPIServerIsAwayAndCatchesUpAfter() async throws {
        let store = try ObjectStore(path: nil, historyLimit: 1000)
        var (api, apiPort) = try await EmbeddedAPIServer.start(store: store)
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(apiPort)"))
        var simulator = ModelServerConfiguration(engine: EngineConfiguration(profile: ProfileCatalog.tiny))
        simulator.port = 0
        simulator.servedModelNames = ["m"]
        let model = ModelServer(configuration: simulator, logger: Logger(label: "test"))
        try await model.withRunning { modelPort in
            var spec = ModelServiceSpec(model: "m", server: ServerSpec(engine: .command, command: ["x"]))
            spec.replicas = 1
            _ = try await client.create(
                ModelService(metadata: ObjectMeta(name: "svc", namespace: "default"), spec: spec))
            _ = try await client.create(Self.leader("svc-0", owner: "svc", port: modelPort))
            var status = PodStatus(phase: .running, conditions: [Condition(type: "Ready", status: "True")])
            status.podIP = "127.0.0.1"
            _ = try await client.patch(
                Pod.self, namespace: "default", name: "svc-0",
                patch: .object(["status": try JSONValue(encoding: status)]), subresource: "status")

            var configuration = GatewayConfiguration(pools: [])
            configuration.port = 0
            let gateway = Gateway(configuration: configuration, logger: Logger(label: "test.gateway"))
            let source = ClusterPoolSource(client: client, gateway: gateway, logger: Logger(label: "test"))
            let discovering = Task { try await source.run() }
            defer { discovering.cancel() }
            try await gateway.withRunning { gatewayPort in
                @Sendable func complete() async throws -> UInt {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(gatewayPort)/v1/completions")
                    request.method = .POST
                    request.headers.add(name: "content-type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: #"{"model":"m","prompt":"hi","max_tokens":2}"#))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    return response.status.code
                }
                try await eventually("the pool and its endpoint", timeout: .seconds(30)) {
                    Self.endpoints(gateway, pool: "svc") == ["127.0.0.1:\(modelPort)"]
                }
                #expect(try await complete() == 200)

                // The API server goes away: the gateway keeps its pools and routes to what it knows.
                await api.stop()
                for _ in 0..<5 { #expect(try await complete() == 200) }
                #expect(Self.endpoints(gateway, pool: "svc") == ["127.0.0.1:\(modelPort)"])

                // Changes made while it was away reach the gateway once it is back.
                _ = try await store.create(
                    ModelService.descriptor, namespace: "default",
                    body: try JSONValue(
                        encoding: ModelService(metadata: ObjectMeta(name: "svc2", namespace: "default"), spec: spec)))
                (api, _) = try await EmbeddedAPIServer.start(store: store, port: apiPort)
                try await eventually("the gateway to catch up", timeout: .seconds(30)) {
                    gateway.pools.contains { $0.name == "svc2" }
                }
                #expect(try await complete() == 200)
            }
        }
        await api.stop()
    }

    static func leader(_ name: String, owner: String, port: Int) -> Pod {
        Pod(
            metadata: ObjectMeta(
                name: name, namespace: "default",
                labels: [WellKnown.modelServiceLabel: owner, WellKnown.workerIndexLabel: "0"]),
            spec: PodSpec(containers: [
                Container(name: "server", command: ["x"], ports: [ContainerPort(name: "http", containerPort: port)])
            ]))
    }

    static func endpoints(_ gateway: Gateway, pool: String) -> [String] {
        gateway.pools.first { $0.name == pool }?.read { state in
            state.endpoints.values.filter { !$0.draining }.map(\.id).sorted()
        } ?? []
    }
}
