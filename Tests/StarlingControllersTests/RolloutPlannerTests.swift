import StarlingAPI
import Testing

@testable import StarlingControllers

/// A ModelService's pods as the controller and nodes would leave them, for running the planner pass after pass.
struct RolloutCluster {
    var service: ModelService
    var pods: [Pod]
    let planner = ModelServicePlanner()

    /// Groups by index, with whether each is Ready and its leader's revision.
    var groups: [Int: (ready: Bool, revision: String)] {
        var result: [Int: (ready: Bool, revision: String)] = [:]
        for pod in pods {
            guard let g = pod.metadata.labels?[WellKnown.groupIndexLabel].flatMap(Int.init) else { continue }
            let revision = pod.metadata.labels?[WellKnown.revisionLabel] ?? ""
            let ready = (result[g]?.ready ?? true) && pod.isReady
            result[g] = (ready, result[g]?.revision ?? revision)
        }
        return result
    }

    var readyGroups: Int { groups.values.filter(\.ready).count }

    /// One controller pass: plan, then delete and create as planned (deleted pods go at once, created pods start
    /// Running but not Ready); the plan's status becomes the service's.
    @discardableResult
    mutating func pass(now: String = "2026-12-05T10:00:00Z") -> ModelServicePlan {
        let plan = planner.plan(service: service, pods: pods, now: now)
        pods.removeAll { plan.delete.contains($0.metadata.nameOrEmpty) }
        pods += plan.create.map { pod in
            var pod = pod
            pod.status = PodStatus(phase: .running, conditions: [Condition(type: "Ready", status: "False")])
            pod.status?.containerStatuses = [ContainerStatus(name: "server", ready: false, restartCount: 0)]
            return pod
        }
        service.status = plan.status
        return plan
    }

    /// Makes every pod of `group` Ready.
    mutating func makeReady(group: Int) {
        for i in pods.indices where pods[i].metadata.labels?[WellKnown.groupIndexLabel] == String(group) {
            pods[i].status?.conditions = [Condition(type: "Ready", status: "True")]
            pods[i].status?.containerStatuses = [ContainerStatus(name: "server", ready: true, restartCount: 0)]
        }
    }

    /// A converged cluster of `service`: every group created and Ready, the status as the planner leaves it.
    static func settled(_ service: ModelService) -> RolloutCluster {
        var cluster = RolloutCluster(service: service, pods: [])
        for _ in 0..<4 {
            cluster.pass()
            for g in cluster.groups.keys { cluster.makeReady(group: g) }
        }
        cluster.pass()
        return cluster
    }

    /// Changes the template (the server's command) and the rollout settings, as `kubectl apply` would.
    mutating func update(command: [String], rollout: RolloutSpec?) {
        service.spec.server.command = command
        service.spec.rollout = rollout
    }

    /// Runs passes, each followed by the lowest not-Ready group becoming Ready, until the rollout is complete;
    /// checks after every pass that no more groups exist than replicas + maxSurge and that at least replicas −
    /// maxUnavailable serve. Returns the passes it took.
    mutating func rollToCompletion(maxPasses: Int = 60, checkingBounds: Bool = true) -> Int {
        let bounds = RolloutBounds(service.spec.rollout, replicas: service.spec.desiredReplicas)
        for passNumber in 1...maxPasses {
            let plan = pass()
            if checkingBounds {
                #expect(
                    groups.count <= bounds.replicas + bounds.maxSurge, "pass \(passNumber): \(groups.keys.sorted())")
                #expect(readyGroups >= bounds.replicas - bounds.maxUnavailable, "pass \(passNumber)")
            }
            if plan.status.conditions?.condition("Progressing")?.reason == "Complete" { return passNumber }
            if let next = groups.filter({ !$0.value.ready }).keys.min() { makeReady(group: next) }
        }
        Issue.record("the rollout did not complete in \(maxPasses) passes")
        return maxPasses
    }
}

@Suite struct RolloutPlannerTests {
    @Test(
        arguments: [
            (4, IntOrString.int(2), IntOrString.int(2)), (4, .int(1), .int(0)), (1, .int(0), .int(1)),
            (3, .string("50%"), .string("50%")), (5, .int(0), .int(2)), (2, .int(2), .int(0)),
        ] as [(Int, IntOrString, IntOrString)])
    func aRolloutStaysWithinItsBoundsAndEndsWithoutSurge(replicas: Int, unavailable: IntOrString, surge: IntOrString) {
        var cluster = RolloutCluster.settled(Fixture.service(replicas: replicas))
        let old = cluster.service.status?.updateRevision
        cluster.update(
            command: ["server", "--v2"], rollout: RolloutSpec(maxUnavailable: unavailable, maxSurge: surge))
        _ = cluster.rollToCompletion()
        let revision = GroupPodBuilder.revision(of: cluster.service.spec)
        #expect(revision != old)
        #expect(cluster.groups.keys.sorted() == Array(0..<replicas))
        #expect(cluster.groups.values.allSatisfy { $0.revision == revision && $0.ready })
        let status = try! #require(cluster.service.status)
        #expect(status.currentRevision == revision)
        #expect(status.updateRevision == revision)
        #expect(status.updatedReplicas == replicas)
        #expect(status.updatedReadyReplicas == replicas)
        #expect(status.revisions == [RevisionStatus(revision: revision, replicas: replicas, readyReplicas: replicas)])
    }

    @Test func maxSurgeWithOneReplicaServesThroughout() {
        var cluster = RolloutCluster.settled(Fixture.service(replicas: 1))
        cluster.update(command: ["server", "--v2"], rollout: RolloutSpec(maxUnavailable: .int(0), maxSurge: .int(1)))
        // First the surge group, with the old group still serving.
        let first = cluster.pass()
        #expect(first.create.map(\.metadata.nameOrEmpty) == ["llm-1", "llm-1-1"])
        #expect(first.delete.isEmpty)
        #expect(cluster.service.status?.conditions?.condition("Progressing")?.reason == "RollingUpdate")
        // Until it is Ready the old group stays.
        #expect(cluster.pass().delete.isEmpty)
        #expect(cluster.service.status?.revisions?.map(\.replicas) == [1, 1])
        cluster.makeReady(group: 1)
        #expect(cluster.pass().delete == ["llm-0", "llm-0-1"])
        // The old group comes back at the new revision; the surge stays until it is Ready, then goes.
        cluster.pass()
        #expect(cluster.groups.keys.sorted() == [0, 1])
        cluster.makeReady(group: 0)
        #expect(cluster.pass().delete == ["llm-1", "llm-1-1"])
        #expect(cluster.pass().status.conditions?.condition("Progressing")?.reason == "Complete")
    }

    @Test func lwsDocumentedFourReplicasTwoUnavailableTwoSurge() {
        var cluster = RolloutCluster.settled(Fixture.service(replicas: 4, size: 1))
        cluster.update(command: ["server", "--v2"], rollout: RolloutSpec(maxUnavailable: .int(2), maxSurge: .int(2)))
        // The rollout starts with two surge groups and the two highest groups replaced.
        let first = cluster.pass()
        #expect(Set(first.create.map(\.metadata.nameOrEmpty)) == ["llm-4", "llm-5"])
        #expect(first.delete == ["llm-3", "llm-2"])
        cluster.pass()
        #expect(cluster.groups.count == 6)
        #expect(cluster.readyGroups == 2)
        // Nothing more goes until something new serves.
        #expect(cluster.pass().delete.isEmpty)
        cluster.makeReady(group: 4)
        #expect(cluster.pass().delete == ["llm-1"])
        _ = cluster.rollToCompletion()
        #expect(cluster.groups.keys.sorted() == [0, 1, 2, 3])
    }

    @Test func partitionKeepsLowerGroupsAndRecreatesThemAtTheirTemplate() throws {
        var cluster = RolloutCluster.settled(Fixture.service(replicas: 4))
        let old = try #require(cluster.service.status?.currentRevision)
        #expect(cluster.service.status?.currentTemplate?.spec.server.command == ["server"])
        cluster.update(command: ["server", "--v2"], rollout: RolloutSpec(partition: 2))
        _ = cluster.rollToCompletion()
        let new = GroupPodBuilder.revision(of: cluster.service.spec)
        #expect(cluster.groups.mapValues(\.revision) == [0: old, 1: old, 2: new, 3: new])
        let status = try #require(cluster.service.status)
        #expect(status.currentRevision == old)
        #expect(status.updateRevision == new)
        #expect(status.updatedReplicas == 2)
        #expect(status.revisions?.map(\.revision) == [new, old])
        #expect(status.conditions?.condition("Progressing")?.message?.contains("below partition 2") == true)

        // A group below the partition that fails comes back at the template it ran.
        let leader = try #require(cluster.pods.firstIndex { $0.metadata.nameOrEmpty == "llm-0" })
        cluster.pods[leader].status?.containerStatuses?[0].restartCount = 1
        #expect(cluster.pass().delete == ["llm-0", "llm-0-1"])
        let recreated = cluster.pass().create
        #expect(recreated.map(\.metadata.nameOrEmpty) == ["llm-0", "llm-0-1"])
        #expect(recreated.allSatisfy { $0.metadata.labels?[WellKnown.revisionLabel] == old })
        #expect(recreated[0].spec.containers[0].command == ["server"])
        cluster.makeReady(group: 0)

        // Lowering the partition finishes the rollout; the current revision then moves on.
        cluster.service.spec.rollout = RolloutSpec(partition: 0)
        _ = cluster.rollToCompletion()
        #expect(cluster.groups.values.allSatisfy { $0.revision == new })
        #expect(cluster.service.status?.currentRevision == new)
        #expect(cluster.service.status?.currentTemplate?.spec.server.command == ["server", "--v2"])
    }

    @Test func partitionDuringAScale() throws {
        var cluster = RolloutCluster.settled(Fixture.service(replicas: 4))
        let old = try #require(cluster.service.status?.currentRevision)
        cluster.update(command: ["server", "--v2"], rollout: RolloutSpec(partition: 2))
        _ = cluster.rollToCompletion()
        let new = GroupPodBuilder.revision(of: cluster.service.spec)
        // Scaling up adds groups at the new template above the partition.
        cluster.service.spec.replicas = 6
        _ = cluster.rollToCompletion(checkingBounds: false)
        #expect(cluster.groups.mapValues(\.revision) == [0: old, 1: old, 2: new, 3: new, 4: new, 5: new])
        // Scaling below the partition keeps the remaining groups at their template.
        cluster.service.spec.replicas = 1
        _ = cluster.rollToCompletion(checkingBounds: false)
        #expect(cluster.groups.mapValues(\.revision) == [0: old])
        #expect(cluster.service.status?.currentRevision == old)
        // Scaling up again: groups below the partition come at the kept template, the others at the new one.
        cluster.service.spec.replicas = 3
        _ = cluster.rollToCompletion(checkingBounds: false)
        #expect(cluster.groups.mapValues(\.revision) == [0: old, 1: old, 2: new])
    }

    @Test func aNewServiceWithAPartitionStartsAtItsTemplate() {
        var svc = Fixture.service(replicas: 3)
        svc.spec.rollout = RolloutSpec(partition: 2)
        let cluster = RolloutCluster.settled(svc)
        let revision = GroupPodBuilder.revision(of: svc.spec)
        #expect(cluster.groups.values.allSatisfy { $0.revision == revision })
        #expect(cluster.service.status?.currentRevision == revision)
    }

    @Test func recreateGroupAfterStartWaitsForTheGroupToStart() throws {
        let svc = Fixture.service(replicas: 1, size: 3, restart: .recreateGroupAfterStart)
        var pods = Fixture.pods(for: svc, groups: [0], ready: false)
        // One host still Pending (pulling its image), another failed: only the failed pod is replaced.
        pods[1].status?.phase = .pending
        pods[2].status?.phase = .failed
        let planner = ModelServicePlanner()
        let early = planner.plan(service: svc, pods: pods, now: "t")
        #expect(early.delete == ["llm-0-2"])
        #expect(!early.events.contains { $0.reason == "RecreatingGroup" })
        // A restart before the group started is left to the node.
        pods[2].status?.phase = .running
        pods[2].status?.containerStatuses?[0].restartCount = 1
        #expect(planner.plan(service: svc, pods: pods, now: "t").delete.isEmpty)
        // Once every host has started, a restart recreates the whole group.
        pods[1].status?.phase = .running
        let started = planner.plan(service: svc, pods: pods, now: "t")
        #expect(started.delete == ["llm-0", "llm-0-1", "llm-0-2"])
        #expect(started.events.contains { $0.reason == "RecreatingGroup" })
    }

    @Test func aSurgeGroupThatFailedLeavesNoBackoffForTheNextRollout() throws {
        var cluster = RolloutCluster.settled(Fixture.service(replicas: 1))
        cluster.update(command: ["server", "--v2"], rollout: RolloutSpec(maxUnavailable: .int(1), maxSurge: .int(1)))
        // The surge group is made and, one group being allowed down, the old one replaced at once.
        let first = cluster.pass()
        #expect(first.delete == ["llm-0", "llm-0-1"])
        cluster.pass()
        // The surge group restarts while no outdated group is left: it is deleted and not made again (the one
        // group may be down), and no recreation count stays behind to hold back the next rollout's surge.
        let leader = try #require(cluster.pods.firstIndex { $0.metadata.nameOrEmpty == "llm-1" })
        cluster.pods[leader].status?.containerStatuses?[0].restartCount = 1
        #expect(cluster.pass().delete == ["llm-1", "llm-1-1"])
        #expect(cluster.service.status?.groupRecreations == nil)
        cluster.makeReady(group: 0)
        cluster.pass()
        #expect(cluster.groups.keys.sorted() == [0])
        #expect(cluster.service.status?.conditions?.condition("Progressing")?.reason == "Complete")
    }
}
