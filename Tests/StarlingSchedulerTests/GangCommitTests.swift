import Foundation
import Logging
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingScheduler

/// Committing a gang against a real API server: claims first, then binds; a bind that fails undoes the gang.
@Suite struct GangCommitTests {
    @Test func aFailedBindLeavesNoHalfPlacedGang() async throws {
        let (server, port) = try await EmbeddedAPIServer.start()
        defer { server.stopSoon() }
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)"))
        _ = try await client.create(Node(metadata: ObjectMeta(name: "a")))
        var pod = Pod(
            metadata: ObjectMeta(name: "g-0", namespace: "default"),
            spec: PodSpec(containers: [Container(name: "c", command: ["x"])]))
        pod.spec.schedulerName = WellKnown.schedulerName
        pod = try await client.create(pod)
        let spec = ResourceClaimSpec(requests: [
            DeviceRequest(name: "accelerators", exactly: ExactDeviceRequest(deviceClassName: GPUInventory.gpuClass))
        ])
        for name in ["g-0-accelerators", "g-1-accelerators"] {
            _ = try await client.create(
                ResourceClaim(metadata: ObjectMeta(name: name, namespace: "default"), spec: spec))
        }
        func result(_ device: String) -> [DeviceRequestAllocationResult] {
            [
                DeviceRequestAllocationResult(
                    request: "accelerators", driver: GPUInventory.driver, pool: "a", device: device)
            ]
        }
        // The gang's second pod does not exist: its bind fails after the first pod was bound.
        let placements = [
            Placement(
                pod: PodRequest(namespace: "default", name: "g-0", uid: pod.metadata.uid ?? ""), gang: "g", node: "a",
                claims: ["g-0-accelerators": result("gpu-0")]),
            Placement(
                pod: PodRequest(namespace: "default", name: "g-1", uid: "missing"), gang: "g", node: "a",
                claims: ["g-1-accelerators": result("gpu-1")]),
        ]
        let scheduler = SchedulerService(client: client)
        let state = SchedulerState()
        await scheduler.commit(
            placements, pods: [:], state: state,
            recorder: EventRecorder(client: client, component: WellKnown.schedulerName, logger: Logger(label: "test")))
        for name in ["g-0-accelerators", "g-1-accelerators"] {
            let claim = try await client.get(ResourceClaim.self, namespace: "default", name: name)
            #expect(claim.status?.allocation == nil, "\(name) was left allocated")
        }
        let left = try? await client.get(Pod.self, namespace: "default", name: "g-0")
        #expect(left == nil || left?.metadata.deletionTimestamp != nil, "the bound member was left bound")
        #expect(await state.assumed.isEmpty)
    }
}
