import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Synchronization
import Testing

@testable import StarlingControllers

/// The ModelService controller on the in-memory API server: each test runs in milliseconds, so the controller's
/// reactions to creation, scaling, readiness, failures, restarts and lost watches are covered without processes.
/// (`ModelServiceControllerAccessTests` and the end-to-end tests run it on the real API servers.)
@Suite struct ModelServiceControllerTests {
    let api = InMemoryKubeAPI()
    /// What each wait allows: these take milliseconds, but a full parallel run can keep the two cooperative threads
    /// busy for seconds (other suites' subprocesses and blocking kubectl calls).
    static let patience = Duration.seconds(60)

    static func service(_ name: String, replicas: Int, groupSize: Int = 1) -> ModelService {
        var spec = ModelServiceSpec(model: "m-\(name)", server: ServerSpec(engine: .sim))
        spec.server.profile = "tiny"
        spec.replicas = replicas
        if groupSize > 1 { spec.group = GroupSpec(size: groupSize) }
        return ModelService(metadata: ObjectMeta(name: name), spec: spec)
    }

    /// Runs a controller (one worker, so keys are handled in the order they were queued) during `body`.
    func withController<R>(_ body: () async throws -> R) async throws -> R {
        let controller = ModelServiceController(
            client: api, workers: 1, planner: ModelServicePlanner(template: .kubernetes(starlingImage: "starling:test"))
        )
        let running = Task { try await controller.run() }
        defer { running.cancel() }
        return try await body()
    }

    func pods(of service: String) async throws -> [Pod] {
        try await api.list(Pod.self, labelSelector: "\(WellKnown.modelServiceLabel)=\(service)").items
    }

    func markReady(_ pod: Pod) async throws {
        var status = PodStatus(phase: .running, conditions: [Condition(type: "Ready", status: "True")])
        status.podIP = "10.0.0.\(Int.random(in: 2...250))"
        _ = try await api.patch(
            Pod.self, namespace: pod.metadata.namespace, name: pod.metadata.nameOrEmpty,
            patch: .object(["status": try JSONValue(encoding: status)]), subresource: "status")
    }

    func requests(since start: Int, _ verb: String, _ resource: String) async -> Int {
        await api.requests.dropFirst(start).filter { $0.verb == verb && $0.resource == resource }.count
    }

    @Test func createsEveryGroupsPodsItsHeadlessServiceAndStatus() async throws {
        try await withController {
            _ = try await api.create(Self.service("llm", replicas: 3, groupSize: 2))
            try await eventually("6 pods", timeout: Self.patience) { try await pods(of: "llm").count == 6 }
            let created = try await pods(of: "llm")
            let groups = Dictionary(grouping: created) { $0.metadata.labels?[WellKnown.groupIndexLabel] ?? "" }
            #expect(groups.keys.sorted() == ["0", "1", "2"] && groups.values.allSatisfy { $0.count == 2 })
            let service = try await api.get(ModelService.self, name: "llm")
            #expect(created.allSatisfy { $0.metadata.ownerReferences?.first?.uid == service.metadata.uid })
            _ = try await api.get(KubeService.self, name: "llm")
            try await eventually("status counts 3 replicas", timeout: Self.patience) {
                try await api.get(ModelService.self, name: "llm").status?.replicas == 3
            }
            for pod in created { try await markReady(pod) }
            try await eventually("3 ready replicas", timeout: Self.patience) {
                try await api.get(ModelService.self, name: "llm").status?.readyReplicas == 3
            }
            // Status goes through the subresource as a patch; the spec is never written.
            #expect(await requests(since: 0, "patch", "modelservices/status") > 0)
            #expect(await requests(since: 0, "update", "modelservices") == 0)
        }
    }

    @Test func scalingDownDeletesTheHighestGroupsOnly() async throws {
        try await withController {
            _ = try await api.create(Self.service("llm", replicas: 3))
            try await eventually("3 pods", timeout: Self.patience) { try await pods(of: "llm").count == 3 }
            let kept = try await pods(of: "llm").first { $0.metadata.labels?[WellKnown.groupIndexLabel] == "0" }
            _ = try await api.patch(
                ModelService.self, name: "llm", patch: .object(["spec": .object(["replicas": .int(1)])]))
            try await eventually("1 pod", timeout: Self.patience) { try await pods(of: "llm").count == 1 }
            #expect(try await pods(of: "llm").first?.metadata.uid == kept?.metadata.uid)
        }
    }

    @Test func aControllerWithColdCachesLeavesConvergedPodsAlone() async throws {
        try await withController {
            _ = try await api.create(Self.service("a", replicas: 2, groupSize: 2))
            try await eventually("4 pods", timeout: Self.patience) { try await pods(of: "a").count == 4 }
            for pod in try await pods(of: "a") { try await markReady(pod) }
            try await eventually("2 ready", timeout: Self.patience) {
                try await api.get(ModelService.self, name: "a").status?.readyReplicas == 2
            }
        }
        let before = try await pods(of: "a").map(\.metadata.uid)
        let start = await api.requests.count
        try await withController {
            // One worker: "a", queued when the caches filled, is handled before "b", created afterwards.
            try await eventually("the new controller listed", timeout: Self.patience) {
                await requests(since: start, "list", "pods") > 0
            }
            _ = try await api.create(Self.service("b", replicas: 1))
            try await eventually("b's pod", timeout: Self.patience) { try await pods(of: "b").count == 1 }
        }
        #expect(try await pods(of: "a").map(\.metadata.uid) == before)
        #expect(await requests(since: start, "delete", "pods") == 0)
        #expect(await requests(since: start, "create", "pods") == 1, "only b's pod")
    }

    @Test func aSurgeRolloutReplacesEveryGroupAndRecordsTheTemplate() async throws {
        try await withController {
            var service = Self.service("llm", replicas: 2)
            service.spec.server.args = ["--v", "1"]
            _ = try await api.create(service)
            try await eventually("2 pods", timeout: Self.patience) { try await pods(of: "llm").count == 2 }
            for pod in try await pods(of: "llm") { try await markReady(pod) }
            try await eventually("2 ready", timeout: Self.patience) {
                try await api.get(ModelService.self, name: "llm").status?.readyReplicas == 2
            }
            let old = try await api.get(ModelService.self, name: "llm").status?.currentRevision
            #expect(try await api.get(ModelService.self, name: "llm").status?.currentTemplate?.spec.server.args != nil)
            _ = try await api.patch(
                ModelService.self, name: "llm",
                patch: .object([
                    "spec": .object([
                        "server": .object(["args": .null]),
                        "rollout": .object(["maxUnavailable": .int(0), "maxSurge": .int(1)]),
                    ])
                ]))
            var most = 0
            try await eventually("every group at the new revision", timeout: Self.patience) {
                let live = try await pods(of: "llm").filter { $0.metadata.deletionTimestamp == nil }
                most = max(most, live.count)
                for pod in live where !pod.isReady { try await markReady(pod) }
                let status = try await api.get(ModelService.self, name: "llm").status
                return status?.currentRevision != old && status?.currentRevision == status?.updateRevision
                    && live.count == 2
                    && live.allSatisfy { $0.metadata.labels?[WellKnown.revisionLabel] == status?.updateRevision }
            }
            #expect(most <= 3, "one surge group at most")
            let status = try await api.get(ModelService.self, name: "llm").status
            // The template was patched key by key: the args it lost are gone from status too.
            #expect(status?.currentTemplate?.spec.server.args == nil)
            #expect(status?.currentTemplate?.spec.model == "m-llm")
            #expect(status?.revisions?.count == 1)
        }
    }

    @Test func aFailedCreateIsRetried() async throws {
        await api.fail(APIAccess("create", "pods"), with: Status.internalError("etcd is slow"), times: 2)
        try await withController {
            _ = try await api.create(Self.service("llm", replicas: 2))
            try await eventually("2 pods despite two failed creates", timeout: Self.patience) {
                try await pods(of: "llm").count == 2
            }
        }
    }

    @Test func aLostWatchHistoryIsRelistedAndChangesMadeMeanwhileArrive() async throws {
        try await withController {
            _ = try await api.create(Self.service("llm", replicas: 1))
            try await eventually("1 pod", timeout: Self.patience) { try await pods(of: "llm").count == 1 }
            await api.compactHistory()
            await api.endWatches()
            _ = try await api.patch(
                ModelService.self, name: "llm", patch: .object(["spec": .object(["replicas": .int(3)])]))
            try await eventually("3 pods after the relist", timeout: Self.patience) {
                try await pods(of: "llm").count == 3
            }
        }
    }

    @Test func anUndecodableModelServiceIsReportedAndItsPodsKept() async throws {
        let owner = await api.insertRaw(
            ModelService.descriptor,
            .object([
                "apiVersion": .string(ModelService.descriptor.apiVersion), "kind": .string("ModelService"),
                "metadata": .object(["name": .string("future"), "namespace": .string("default")]),
                "spec": .object(["model": .string("m"), "server": .object(["engine": .int(7)])]),
            ]))
        var pod = Pod(
            metadata: ObjectMeta(
                name: "future-0-0", namespace: "default", labels: [WellKnown.modelServiceLabel: "future"]),
            spec: PodSpec(containers: [Container(name: "server", image: "x")]))
        pod.metadata.ownerReferences = [
            OwnerReference(
                apiVersion: ModelService.descriptor.apiVersion, kind: "ModelService", name: "future",
                uid: owner.value(atPath: "metadata.uid")?.stringValue ?? "", controller: true, blockOwnerDeletion: true)
        ]
        _ = try await api.create(pod)
        let start = await api.requests.count
        try await withController {
            try await eventually("a DecodeFailed condition and a Warning Event", timeout: Self.patience) {
                let raw = try await api.patchRaw(
                    ModelService.descriptor, namespace: nil, name: "future", patch: .object([:]), patchType: .merge,
                    subresource: nil)
                let conditions = raw.value(atPath: "status.conditions")?.arrayValue ?? []
                let failed = conditions.contains { $0["reason"]?.stringValue == "DecodeFailed" }
                let events = try await api.list(Event.self).items.filter { $0.reason == "DecodeFailed" }
                return failed && !events.isEmpty
            }
        }
        #expect(try await pods(of: "future").count == 1)
        #expect(await requests(since: start, "delete", "pods") == 0)
    }
}

/// The autoscaler's shell on the in-memory API server with the ModelService controller: signals in, whole groups
/// out — a two-host service grows and shrinks by groups, with an Event per change and `status.autoscaling`.
@Suite struct AutoscalerControllerTests {
    static let patience = ModelServiceControllerTests.patience

    /// Signals set by the test: every Ready leader reports the same load.
    final class StubSignals: AutoscaleSignalSource {
        let replica = Mutex(AutoscaleSignals.Replica())

        func load(of service: ModelService, endpoints: [String]) async -> ObservedLoad? {
            let replica = self.replica.withLock { $0 }
            return ObservedLoad(
                replicas: Dictionary(uniqueKeysWithValues: endpoints.map { ($0, replica) }), held: 0, idleFor: nil)
        }
    }

    @Test func aTwoHostServiceScalesByWholeGroups() async throws {
        let api = InMemoryKubeAPI()
        let signals = StubSignals()
        let controller = ModelServiceController(
            client: api, workers: 1, planner: ModelServicePlanner(template: .kubernetes(starlingImage: "starling:test"))
        )
        let autoscaler = AutoscalerController(client: api, signals: signals, interval: .milliseconds(20))
        let running = [Task { try await controller.run() }, Task { try await autoscaler.run() }]
        defer { for task in running { task.cancel() } }
        var service = ModelServiceControllerTests.service("big", replicas: 1, groupSize: 2)
        var autoscaling = AutoscalingSpec(minReplicas: 1, maxReplicas: 4, metric: .queue, target: 2)
        autoscaling.scaleDown = ScalingBehavior(stabilizationWindowSeconds: 0)
        service.spec.autoscaling = autoscaling
        _ = try await api.create(service)
        func pods() async throws -> [Pod] { try await api.list(Pod.self).items }
        func readyAll() async throws {
            for pod in try await pods() where !pod.isReady {
                var status = PodStatus(phase: .running, conditions: [Condition(type: "Ready", status: "True")])
                status.podIP = "10.0.\(Int.random(in: 0...255)).\(Int.random(in: 2...250))"
                _ = try await api.patch(
                    Pod.self, namespace: pod.metadata.namespace, name: pod.metadata.nameOrEmpty,
                    patch: .object(["status": try JSONValue(encoding: status)]), subresource: "status")
            }
        }
        try await eventually("one group of two", timeout: Self.patience) { try await pods().count == 2 }
        try await readyAll()

        signals.replica.withLock { $0 = AutoscaleSignals.Replica(waiting: 10, running: 20, kvCache: 0.9) }
        try await eventually("four groups of two", timeout: Self.patience) { try await pods().count == 8 }
        let groups = Dictionary(grouping: try await pods()) { $0.metadata.labels?[WellKnown.groupIndexLabel] ?? "" }
        #expect(groups.keys.sorted() == ["0", "1", "2", "3"] && groups.values.allSatisfy { $0.count == 2 })
        try await readyAll()

        signals.replica.withLock { $0 = AutoscaleSignals.Replica() }
        try await eventually("back to one group", timeout: Self.patience) {
            try await pods().map(\.metadata.nameOrEmpty).sorted() == ["big-0", "big-0-1"]
        }
        let events = try await api.list(Event.self).items
        #expect(events.contains { $0.reason == "ScaledUp" && $0.message?.hasSuffix("1 → 4 replicas") == true })
        #expect(events.contains { $0.reason == "ScaledDown" && $0.message?.hasSuffix("4 → 1 replicas") == true })
        try await eventually("status.autoscaling", timeout: Self.patience) {
            try await api.get(ModelService.self, name: "big").status?.autoscaling?.desiredReplicas == 1
        }
        // The autoscaler writes the count through the scale subresource, never the whole object.
        #expect(await api.requests.contains(APIAccess("patch", "modelservices/scale", group: WellKnown.group)))
        #expect(!(await api.requests.contains { $0.verb == "update" && $0.resource == "modelservices" }))
    }
}
