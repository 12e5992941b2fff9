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
        // Waits for the last accesses (status, the aggregated Event); the comparison below names any still missing.
        try? await eventually("status and the aggregated event", timeout: .seconds(30)) {
            await log.seen.isSuperset(of: Set(ModelServiceController.apiAccess))
        }
        let seen = await log.seen
        let declared = Set(ModelServiceController.apiAccess)
        #expect(
            seen == declared,
            "missing: \(declared.subtracting(seen).sorted()), not declared: \(seen.subtracting(declared).sorted())")
    }
}
