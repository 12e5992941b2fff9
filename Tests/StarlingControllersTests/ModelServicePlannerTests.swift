import StarlingAPI
import Testing

@testable import StarlingControllers

/// Small builders for planner fixtures.
enum Fixture {
    static func service(
        replicas: Int = 2, size: Int = 2, restart: GroupRestartPolicy? = nil, startup: StartupPolicy? = nil,
        command: [String] = ["server"]
    ) -> ModelService {
        var meta = ObjectMeta(name: "llm", namespace: "default")
        meta.uid = "uid-1"
        meta.generation = 3
        return ModelService(
            metadata: meta,
            spec: ModelServiceSpec(
                model: "m", replicas: replicas,
                group: GroupSpec(size: size, restartPolicy: restart, startupPolicy: startup),
                accelerators: AcceleratorSpec(type: "H100-80GB", count: 1),
                server: ServerSpec(engine: .command, command: command)))
    }

    /// The pods of `groups` as the controller would create them, in the given state.
    static func pods(
        for service: ModelService, groups: [Int], ready: Bool = true, restarts: Int = 0, revision: String? = nil
    ) -> [Pod] {
        let rev = revision ?? GroupPodBuilder.revision(of: service.spec)
        let builder = GroupPodBuilder(service: service, revision: rev)
        return groups.flatMap { g in
            (0..<service.spec.groupSize).map { w in
                var pod = builder.pod(group: g, worker: w)
                pod.status = PodStatus(
                    phase: .running, conditions: [Condition(type: "Ready", status: ready ? "True" : "False")])
                pod.status?.containerStatuses = [ContainerStatus(name: "server", ready: ready, restartCount: restarts)]
                return pod
            }
        }
    }
}

@Suite struct ModelServicePlannerTests {
    let planner = ModelServicePlanner()

    @Test func createsLeadersAndWorkersWithNamesLabelsAndEnv() {
        let svc = Fixture.service(replicas: 2, size: 2)
        let plan = planner.plan(service: svc, pods: [], now: "t")
        #expect(plan.create.map(\.metadata.nameOrEmpty) == ["llm-0", "llm-0-1", "llm-1", "llm-1-1"])
        let worker = plan.create[1]
        #expect(worker.metadata.labels?[WellKnown.groupIndexLabel] == "0")
        #expect(worker.metadata.labels?[WellKnown.workerIndexLabel] == "1")
        #expect(worker.metadata.labels?[WellKnown.modelServiceLabel] == "llm")
        #expect(worker.metadata.labels?[WellKnown.revisionLabel] == GroupPodBuilder.revision(of: svc.spec))
        let env = Dictionary(
            uniqueKeysWithValues: (worker.spec.containers[0].env ?? []).map { ($0.name, $0.value ?? "") })
        #expect(env["STARLING_LEADER_ADDRESS"] == "llm-0.llm.default:8000")
        #expect(env["STARLING_GROUP_SIZE"] == "2")
        #expect(env["STARLING_GROUP_INDEX"] == "0")
        #expect(env["STARLING_WORKER_INDEX"] == "1")
        #expect(env["PORT"] == "8000")
        #expect(worker.metadata.ownerReferences?.first?.uid == "uid-1")
        // Embedded pods get their devices through a claim made from the revision's template.
        #expect(worker.spec.containers[0].resources?.claims == [ResourceClaimReference(name: "accelerators")])
        #expect(worker.spec.resourceClaims?.first?.resourceClaimTemplateName?.hasSuffix("-accelerators") == true)
        #expect(plan.status.replicas == 0)
        #expect(plan.status.conditions?.condition("Available")?.status == "False")
        #expect(plan.status.conditions?.condition("Progressing")?.reason == "ScalingUp")
    }

    @Test(arguments: [(1, 3, [1, 2]), (3, 1, [1, 2]), (2, 0, [0, 1])])
    func scalingAddsOrRemovesHighestGroups(from: Int, to: Int, changed: [Int]) {
        let svc = Fixture.service(replicas: to)
        let existing = Fixture.pods(for: svc, groups: Array(0..<from))
        let plan = planner.plan(service: svc, pods: existing, now: "t")
        if to > from {
            #expect(
                Set(plan.create.compactMap { $0.metadata.labels?[WellKnown.groupIndexLabel] })
                    == Set(changed.map(String.init)))
            #expect(plan.delete.isEmpty)
        } else {
            let deletedGroups = Set(plan.delete.map { $0.split(separator: "-")[1] }).map { Int($0)! }.sorted()
            #expect(deletedGroups == changed)
            #expect(plan.create.isEmpty)
        }
    }

    @Test func readyGroupsMakeTheServiceAvailable() {
        let svc = Fixture.service(replicas: 2)
        let plan = planner.plan(service: svc, pods: Fixture.pods(for: svc, groups: [0, 1]), now: "t")
        #expect(plan.create.isEmpty && plan.delete.isEmpty)
        #expect(plan.status.readyReplicas == 2)
        #expect(plan.status.updatedReplicas == 2)
        #expect(plan.status.observedGeneration == 3)
        #expect(plan.status.selector == "starling.dev/model-service=llm")
        #expect(plan.status.conditions?.condition("Available")?.isTrue == true)
        #expect(plan.status.conditions?.condition("Progressing")?.reason == "Complete")
        #expect(plan.events.map(\.reason) == ["Available"])
    }

    @Test func aRestartedPodRecreatesItsWholeGroup() {
        let svc = Fixture.service(replicas: 2)
        var pods = Fixture.pods(for: svc, groups: [0, 1])
        pods[3].status?.containerStatuses?[0].restartCount = 1
        let plan = planner.plan(service: svc, pods: pods, now: "t")
        #expect(plan.delete == ["llm-1", "llm-1-1"])
        #expect(plan.create.isEmpty)
        #expect(plan.events.contains { $0.reason == "RecreatingGroup" })
    }

    @Test func restartPolicyNoneLeavesRestartsAlone() {
        let svc = Fixture.service(replicas: 1, restart: GroupRestartPolicy.none)
        let plan = planner.plan(service: svc, pods: Fixture.pods(for: svc, groups: [0], restarts: 2), now: "t")
        #expect(plan.delete.isEmpty)
        #expect(plan.status.readyReplicas == 1)
    }

    @Test func leaderReadyWaitsForTheLeader() {
        let svc = Fixture.service(replicas: 1, size: 3, startup: .leaderReady)
        let first = planner.plan(service: svc, pods: [], now: "t")
        #expect(first.create.map(\.metadata.nameOrEmpty) == ["llm-0"])
        let notReadyLeader = Array(Fixture.pods(for: svc, groups: [0], ready: false).prefix(1))
        #expect(planner.plan(service: svc, pods: notReadyLeader, now: "t").create.isEmpty)
        let readyLeader = Array(Fixture.pods(for: svc, groups: [0], ready: true).prefix(1))
        #expect(
            planner.plan(service: svc, pods: readyLeader, now: "t").create.map(\.metadata.nameOrEmpty) == [
                "llm-0-1", "llm-0-2",
            ])
    }

    @Test func terminatingGroupsAreNotRecreatedUntilGone() {
        let svc = Fixture.service(replicas: 1)
        var pods = Fixture.pods(for: svc, groups: [0])
        pods[0].metadata.deletionTimestamp = "t"
        let plan = planner.plan(service: svc, pods: pods, now: "t")
        #expect(plan.create.isEmpty)
        #expect(plan.status.readyReplicas == 0)
    }

    @Test func rolloutReplacesOneGroupAtATimeHighestFirst() {
        let svc = Fixture.service(replicas: 3, command: ["server", "--v2"])
        let old = Fixture.pods(for: svc, groups: [0, 1, 2], revision: "old")
        let plan = planner.plan(service: svc, pods: old, now: "t")
        #expect(plan.delete == ["llm-2", "llm-2-1"])
        #expect(plan.status.conditions?.condition("Progressing")?.reason == "RollingUpdate")
        // While group 2 is being replaced (not ready), no other group is touched.
        var mixed = Fixture.pods(for: svc, groups: [0, 1], revision: "old")
        mixed += Fixture.pods(for: svc, groups: [2], ready: false)
        #expect(planner.plan(service: svc, pods: mixed, now: "t").delete.isEmpty)
    }

    @Test func revisionIgnoresReplicasButNotTheServer() {
        let a = Fixture.service(replicas: 1)
        let b = Fixture.service(replicas: 5)
        let c = Fixture.service(replicas: 1, command: ["other"])
        #expect(GroupPodBuilder.revision(of: a.spec) == GroupPodBuilder.revision(of: b.spec))
        #expect(GroupPodBuilder.revision(of: a.spec) != GroupPodBuilder.revision(of: c.spec))
    }

    @Test func onePassCreatesAtMostItsBudgetLowestGroupsFirst() {
        let svc = Fixture.service(replicas: 1_000, size: 4)
        let planner = ModelServicePlanner(maxCreatesPerPass: 10)
        let plan = planner.plan(service: svc, pods: [], now: "t")
        #expect(plan.create.count == 10)
        #expect(plan.morePending)
        #expect(plan.create.first?.metadata.nameOrEmpty == "llm-0")
        #expect(plan.create.last?.metadata.nameOrEmpty == "llm-2-1")
        // The next pass goes on where this one stopped, and the last one creates what is left.
        let created = Fixture.pods(for: svc, groups: Array(0..<997))
        let last = planner.plan(service: svc, pods: created, now: "t")
        #expect(last.create.map(\.metadata.nameOrEmpty).prefix(2) == ["llm-997", "llm-997-1"])
        #expect(last.create.count == 10 && last.morePending)
        let finished = planner.plan(service: svc, pods: Fixture.pods(for: svc, groups: Array(0..<998)), now: "t")
        #expect(finished.create.count == 8 && !finished.morePending)
    }

    @Test(arguments: [(0, 0), (1, 1), (2, 2), (3, 2), (5, 3), (500, 9)])
    func slowStartDoublesEachBatch(total: Int, batches: Int) {
        let sizes = SlowStart.batches(total: total)
        #expect(sizes.count == batches)
        #expect(sizes.reduce(0, +) == total)
        for (i, size) in sizes.enumerated().dropLast() { #expect(size == 1 << i) }
    }

    @Test(arguments: [(1, 0), (2, 10), (3, 20), (4, 40), (6, 160), (7, 300), (60, 300)])
    func recreationBackoffDoublesUpToItsCap(count: Int, seconds: Int) {
        #expect(RecreationBackoff().delay(afterRecreations: count) == seconds)
    }

    /// A group that fails, is recreated, and fails again waits out the backoff before it is created a third time.
    @Test func aGroupThatKeepsFailingBacksOff() throws {
        var svc = Fixture.service(replicas: 2)
        func failing(_ g: Int) -> [Pod] {
            var pods = Fixture.pods(for: svc, groups: [g], ready: false)
            pods[1].status?.containerStatuses?[0].restartCount = 1
            return pods
        }
        let healthy = Fixture.pods(for: svc, groups: [0])
        // First failure: recreated at once.
        let first = planner.plan(service: svc, pods: healthy + failing(1), now: "2026-12-04T10:00:00Z")
        #expect(first.delete == ["llm-1", "llm-1-1"])
        #expect(
            first.status.groupRecreations == [GroupRecreation(index: 1, count: 1, lastTime: "2026-12-04T10:00:00Z")])
        svc.status = first.status
        let recreate = planner.plan(service: svc, pods: healthy, now: "2026-12-04T10:00:01Z")
        #expect(recreate.create.map(\.metadata.nameOrEmpty) == ["llm-1", "llm-1-1"])
        #expect(recreate.status.conditions?.condition("ReplicaFailure") == nil)
        // Second failure: deleted at once, created again only after 10 s.
        svc.status = recreate.status
        let second = planner.plan(service: svc, pods: healthy + failing(1), now: "2026-12-04T10:00:05Z")
        #expect(second.delete == ["llm-1", "llm-1-1"])
        svc.status = second.status
        let held = planner.plan(service: svc, pods: healthy, now: "2026-12-04T10:00:09Z")
        #expect(held.create.isEmpty)
        #expect(held.requeueAfter == .milliseconds(6_001))
        let condition = try #require(held.status.conditions?.condition("ReplicaFailure"))
        #expect(condition.reason == "GroupCrashLoop")
        #expect(condition.message?.contains("group 1 failed 2 times") == true)
        #expect(condition.message?.contains("2026-12-04T10:00:15Z") == true)
        #expect(held.status.conditions?.condition("Progressing")?.reason == "GroupCrashLoop")
        let released = planner.plan(service: svc, pods: healthy, now: "2026-12-04T10:00:15Z")
        #expect(released.create.count == 2)
        #expect(released.status.conditions?.condition("ReplicaFailure") == nil)
        // Ready again: the count resets.
        svc.status = released.status
        let ready = planner.plan(
            service: svc, pods: healthy + Fixture.pods(for: svc, groups: [1]), now: "2026-12-04T10:01:00Z")
        #expect(ready.status.groupRecreations == nil)
    }
}
