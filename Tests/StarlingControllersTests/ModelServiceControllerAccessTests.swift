import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingControllers

/// The controller on both API servers, driven through create, scale up and down (twice, so a repeated Event is
/// aggregated), with every request it makes recorded: the set must equal `ModelServiceController.apiAccess`,
/// from which the shipped ClusterRole is built — no verb missing, none granted unused.
@Suite struct ModelServiceControllerAccessTests {
    @Test(arguments: TestBackend.allCases) func requestsAreExactlyTheDeclaredAccess(_ backend: TestBackend) async throws
    {
        let log = APIAccessLog()
        let connection = try await backend.connect(accessLog: log)
        defer { connection.stop() }
        let client = connection.client
        let namespace = connection.namespace
        let controller = ModelServiceController(
            client: client, planner: ModelServicePlanner(template: .kubernetes(starlingImage: "starling:test")),
            namespace: namespace)
        let running = Task { try await controller.run() }
        defer { running.cancel() }
        // The test's own requests go through a client that records nothing.
        let admin = try KubeClient(config: client.config)
        var spec = ModelServiceSpec(model: "m", server: ServerSpec(engine: .sim))
        spec.server.profile = "tiny"
        spec.replicas = 1
        _ = try await admin.create(ModelService(metadata: ObjectMeta(name: "svc", namespace: namespace), spec: spec))
        func pods() async throws -> Int { try await admin.list(Pod.self, namespace: namespace).items.count }
        try await eventually("1 pod", timeout: .seconds(30)) { try await pods() == 1 }
        for replicas in [2, 1, 2, 1] {
            _ = try await admin.updateScale(ModelService.self, namespace: namespace, name: "svc", replicas: replicas)
            try await eventually("\(replicas) pods", timeout: .seconds(30)) {
                try await admin.list(Pod.self, namespace: namespace).items.filter {
                    $0.metadata.deletionTimestamp == nil
                }.count == replicas
            }
        }
        // The last accesses (status, the aggregated Event) may come a while after the last scale.
        await log.expectExactly(ModelServiceController.apiAccess, within: .seconds(30))
    }
}

/// Where pods get their devices through claims (Starling's own API server serves DRA's kinds), the controller also
/// makes each revision's claim template and deletes the templates no pod uses: exactly `deviceClaimAccess` more.
@Suite struct ModelServiceControllerClaimAccessTests {
    @Test func claimTemplatesAreExactlyTheDeclaredAccess() async throws {
        let log = APIAccessLog()
        let connection = try await TestBackend.embedded.connect(accessLog: log)
        defer { connection.stop() }
        let namespace = connection.namespace
        let controller = ModelServiceController(
            client: connection.client, planner: ModelServicePlanner(template: .embedded), namespace: namespace)
        let running = Task { try await controller.run() }
        defer { running.cancel() }
        let admin = try KubeClient(config: connection.client.config)
        var spec = ModelServiceSpec(model: "m", server: ServerSpec(engine: .sim))
        spec.server.profile = "tiny"
        spec.replicas = 1
        spec.accelerators = AcceleratorSpec(type: "H100-80GB", partition: "3g.40gb")
        _ = try await admin.create(ModelService(metadata: ObjectMeta(name: "svc", namespace: namespace), spec: spec))
        func templates() async throws -> [String] {
            try await admin.list(ResourceClaimTemplate.self, namespace: namespace).items.map { $0.metadata.nameOrEmpty }
        }
        try await eventually("the first revision's template", timeout: .seconds(30)) {
            try await templates().count == 1
        }
        let first = try await templates()
        // A new revision: its pods need a new template, and once the old pod is gone its template goes too.
        _ = try await admin.patch(
            ModelService.self, namespace: namespace, name: "svc",
            patch: .object(["spec": .object(["server": .object(["args": .array([.string("--seed"), .string("7")])])])]))
        try await eventually("only the new revision's template", timeout: .seconds(30)) {
            let now = try await templates()
            return now.count == 1 && now != first
        }
        await log.expectExactly(
            ModelServiceController.apiAccess + ModelServiceController.deviceClaimAccess, within: .seconds(30))
    }
}

/// The autoscaler on both API servers with every request recorded: exactly `AutoscalerController.apiAccess`, which
/// the operator's ClusterRole adds to the controller's.
@Suite struct AutoscalerControllerAccessTests {
    @Test(arguments: TestBackend.allCases) func requestsAreExactlyTheDeclaredAccess(_ backend: TestBackend) async throws
    {
        let log = APIAccessLog()
        let connection = try await backend.connect(accessLog: log)
        defer { connection.stop() }
        let namespace = connection.namespace
        let admin = try KubeClient(config: connection.client.config)
        let signals = AutoscalerControllerTests.StubSignals()
        signals.replica.withLock { $0 = AutoscaleSignals.Replica(waiting: 9, running: 4, kvCache: 0.5) }
        let autoscaler = AutoscalerController(
            client: connection.client, signals: signals, interval: .milliseconds(100), namespace: namespace)
        let running = Task { try await autoscaler.run() }
        defer { running.cancel() }
        var spec = ModelServiceSpec(model: "m", server: ServerSpec(engine: .sim))
        spec.server.profile = "tiny"
        spec.replicas = 1
        spec.autoscaling = AutoscalingSpec(minReplicas: 1, maxReplicas: 3, metric: .queue, target: 2)
        _ = try await admin.create(ModelService(metadata: ObjectMeta(name: "svc", namespace: namespace), spec: spec))
        // A Ready leader the signals report on; no controller runs, so the pod is the test's.
        _ = try await admin.create(
            Pod(
                metadata: ObjectMeta(
                    name: "svc-0", namespace: namespace,
                    labels: [WellKnown.modelServiceLabel: "svc", WellKnown.workerIndexLabel: "0"],
                    ownerReferences: [
                        try await admin.get(ModelService.self, namespace: namespace, name: "svc").ownerReference()
                    ]),
                spec: PodSpec(
                    containers: [
                        Container(name: "server", image: "x", ports: [ContainerPort(name: "http", containerPort: 8000)])
                    ], nodeName: "nowhere")))
        var status = PodStatus(phase: .running, conditions: [Condition(type: "Ready", status: "True")])
        status.podIP = "127.9.8.5"
        _ = try await admin.patch(
            Pod.self, namespace: namespace, name: "svc-0", patch: .object(["status": try JSONValue(encoding: status)]),
            subresource: "status")
        try await eventually("scaled up by the scale subresource", timeout: .seconds(30)) {
            try await admin.get(ModelService.self, namespace: namespace, name: "svc").spec.replicas == 3
        }
        // Set back by hand: the same decision again, whose Event is folded into the first (a patch of its count).
        _ = try await admin.updateScale(ModelService.self, namespace: namespace, name: "svc", replicas: 1)
        try await eventually("scaled up again", timeout: .seconds(30)) {
            try await admin.get(ModelService.self, namespace: namespace, name: "svc").spec.replicas == 3
        }
        await log.expectExactly(AutoscalerController.apiAccess)
    }
}
