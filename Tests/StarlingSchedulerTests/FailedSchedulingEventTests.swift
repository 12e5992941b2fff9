import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingScheduler

/// A pod that cannot be placed gets `PodScheduled=False` and a FailedScheduling Warning Event, as kube-scheduler
/// writes them; repeats of the same reason fold into that one Event.
@Suite struct FailedSchedulingEventTests {
    @Test func unschedulablePodGetsAnEvent() async throws {
        let (server, port) = try await EmbeddedAPIServer.start()
        defer { server.stopSoon() }
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)"))
        let scheduler = Task { try await SchedulerService(client: client).run() }
        defer { scheduler.cancel() }
        var pod = Pod(
            metadata: ObjectMeta(name: "big", namespace: "default"),
            spec: PodSpec(containers: [Container(name: "c", command: ["x"])]))
        pod.spec.containers[0].resources = ResourceRequirements(limits: [WellKnown.acceleratorResource: "8"])
        pod.spec.schedulerName = WellKnown.schedulerName
        _ = try await client.create(pod)
        try await eventually("a FailedScheduling event", timeout: .seconds(20)) {
            try await client.list(Event.self, namespace: "default").items.contains {
                $0.reason == "FailedScheduling" && $0.type == "Warning" && $0.involvedObject.name == "big"
                    && $0.source?.component == WellKnown.schedulerName
            }
        }
        let scheduled = try await client.get(Pod.self, namespace: "default", name: "big").status?.conditions?
            .condition("PodScheduled")
        #expect(scheduled?.status == "False" && scheduled?.reason == "Unschedulable")
    }
}
