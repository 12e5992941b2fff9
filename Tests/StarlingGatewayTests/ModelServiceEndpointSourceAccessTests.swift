import Foundation
import Logging
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingGateway

/// Discovery on both API servers with every request recorded: exactly `ModelServiceEndpointSource.apiAccess`,
/// from which the shipped gateway ClusterRole is built; and a Ready leader becomes an endpoint at its pod IP and
/// container port.
@Suite struct ModelServiceEndpointSourceAccessTests {
    @Test(arguments: TestBackend.allCases) func discoveryUsesExactlyTheDeclaredAccess(
        _ backend: TestBackend
    ) async throws {
        let log = APIAccessLog()
        let connection = try await backend.connect(accessLog: log)
        defer { connection.stop() }
        let namespace = connection.namespace
        let admin = try KubeClient(config: connection.client.config)
        let gateway = Gateway(configuration: GatewayConfiguration(pools: []))
        let source = ModelServiceEndpointSource(
            client: connection.client, gateway: gateway, namespace: namespace, logger: Logger(label: "test"))
        let running = Task { try await source.run() }
        defer { running.cancel() }
        var spec = ModelServiceSpec(model: "m", server: ServerSpec(engine: .sim))
        spec.server.profile = "tiny"
        _ = try await admin.create(ModelService(metadata: ObjectMeta(name: "svc", namespace: namespace), spec: spec))
        var pod = Pod(
            metadata: ObjectMeta(
                name: "svc-0", namespace: namespace,
                labels: [WellKnown.modelServiceLabel: "svc", WellKnown.workerIndexLabel: "0"]),
            spec: PodSpec(
                containers: [
                    Container(name: "server", image: "x", ports: [ContainerPort(name: "http", containerPort: 8123)])
                ],
                // On a node no agent serves: no scheduler places it and no agent rewrites the status set below.
                nodeName: "nowhere"))
        pod = try await admin.create(pod)
        var status = PodStatus(phase: .running, conditions: [Condition(type: "Ready", status: "True")])
        status.podIP = "127.9.8.7"
        _ = try await admin.patch(
            Pod.self, namespace: namespace, name: "svc-0", patch: .object(["status": try JSONValue(encoding: status)]),
            subresource: "status")
        let pool = "\(namespace)/svc"
        try await eventually("the leader as an endpoint", timeout: .seconds(30)) {
            gateway.pools.first { $0.name == pool }?.read { state in
                state.endpoints.values.filter { !$0.draining }.map(\.id).sorted()
            } == ["127.9.8.7:8123"]
        }
        let declared = Set(ModelServiceEndpointSource.apiAccess)
        // The watches start after their lists: wait for them; the comparison below names anything still missing.
        try? await eventually("every declared access", timeout: .seconds(10)) {
            await log.seen.isSuperset(of: declared)
        }
        let seen = await log.seen
        #expect(
            seen == declared,
            "missing: \(declared.subtracting(seen).sorted()), not declared: \(seen.subtracting(declared).sorted())")
    }
}
