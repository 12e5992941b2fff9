import Foundation
import Logging
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingGateway

/// Discovery on both API servers with every request recorded: exactly `ClusterPoolSource.apiAccess`,
/// from which the shipped gateway ClusterRole is built; and a Ready leader becomes an endpoint at its pod IP and
/// container port.
@Suite struct ClusterPoolSourceAccessTests {
    @Test(arguments: TestBackend.allCases) func discoveryUsesExactlyTheDeclaredAccess(
        _ backend: TestBackend
    ) async throws {
        let log = APIAccessLog()
        let connection = try await backend.connect(accessLog: log)
        defer { connection.stop() }
        let namespace = connection.namespace
        let admin = try KubeClient(config: connection.client.config)
        let gateway = Gateway(configuration: GatewayConfiguration(pools: []))
        #expect(try await connection.client.serves(InferencePool.descriptor))
        #expect(try await connection.client.serves(ModelService.descriptor))
        let unserved = ResourceDescriptor(
            group: "example.com", version: "v1", kind: "Widget", plural: "widgets", singular: "widget",
            namespaced: true)
        #expect(try await !connection.client.serves(unserved))
        let source = ClusterPoolSource(
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
        // The Inference Extension's way: a pool of plain pods chosen by label, an objective and a rewrite.
        _ = try await admin.create(
            InferencePool(
                metadata: ObjectMeta(name: "vllm", namespace: namespace),
                spec: InferencePoolSpec(matchLabels: ["app": "vllm"], targetPorts: [8000, 8001])))
        _ = try await admin.create(
            InferenceObjective(
                metadata: ObjectMeta(name: "premium", namespace: namespace),
                spec: InferenceObjectiveSpec(priority: 10, pool: "vllm")))
        _ = try await admin.create(
            InferenceModelRewrite(
                metadata: ObjectMeta(name: "alias", namespace: namespace),
                spec: InferenceModelRewriteSpec(
                    pool: "vllm", rules: [ModelRewriteRule(models: ["chat"], targets: [.init(modelRewrite: "llama")])]
                )))
        _ = try await admin.create(
            Pod(
                metadata: ObjectMeta(name: "vllm-a", namespace: namespace, labels: ["app": "vllm"]),
                spec: PodSpec(containers: [Container(name: "vllm", image: "x")], nodeName: "nowhere")))
        status.podIP = "127.9.8.6"
        _ = try await admin.patch(
            Pod.self, namespace: namespace, name: "vllm-a",
            patch: .object(["status": try JSONValue(encoding: status)]), subresource: "status")
        try await eventually("the InferencePool's pod at each target port", timeout: .seconds(30)) {
            gateway.pools.first { $0.name == "\(namespace)/vllm" }?.read { state in
                state.endpoints.values.filter { !$0.draining }.map(\.id).sorted()
            } == ["127.9.8.6:8000", "127.9.8.6:8001"]
        }
        try await eventually("the objective and the rewrite", timeout: .seconds(30)) {
            gateway.objectives.objectives["premium"] == .critical
                && gateway.objectives.models["chat"]?.targets == [.init(model: "llama", weight: 1)]
        }
        await log.expectExactly(ClusterPoolSource.apiAccess)
    }
}
