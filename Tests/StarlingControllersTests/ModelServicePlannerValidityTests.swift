import StarlingAPI
import Testing

@testable import StarlingControllers

/// What the planner does with a service it cannot act on (a kube-apiserver admits what the CRD schema allows, which
/// is less than Starling checks): nothing to the pods, and the reason in conditions and one Warning Event.
@Suite struct ModelServicePlannerValidityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var service: ModelService
        var limits = ObjectLimits.default
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "replicas beyond the operator's limit", service: Fixture.service(replicas: 50, size: 1),
            limits: ObjectLimits(maxReplicas: 10), message: "spec.replicas"),
        Case(
            name: "engine sim without a profile",
            service: {
                var s = Fixture.service()
                s.spec.server = ServerSpec(engine: .sim)
                return s
            }(), message: "spec.server.profile: Required value"),
        Case(
            name: "a feature not built yet",
            service: {
                var s = Fixture.service()
                s.spec.accelerators?.partition = "3g.40gb"
                return s
            }(), message: "spec.accelerators.partition"),
    ]

    @Test(arguments: cases) func invalidServiceKeepsItsPodsAndSaysWhy(_ c: Case) {
        let planner = ModelServicePlanner(limits: c.limits)
        let valid = Fixture.service()
        let running = Fixture.pods(for: valid, groups: [0, 1])
        let plan = planner.plan(service: c.service, pods: running, now: "2026-12-05T00:00:00Z")
        #expect(plan.create.isEmpty && plan.delete.isEmpty)
        let failure = plan.status.conditions?.condition("ReplicaFailure")
        #expect(failure?.status == "True" && failure?.reason == "InvalidSpec")
        #expect(failure?.message?.contains(c.message) == true, "\(failure?.message ?? "")")
        #expect(plan.status.conditions?.condition("Progressing")?.reason == "InvalidSpec")
        #expect(plan.events.map(\.reason) == ["InvalidSpec"])
        // Reported once: the same errors on the next pass add no Event.
        var seen = c.service
        seen.status = plan.status
        #expect(planner.plan(service: seen, pods: running, now: "2026-12-05T00:00:01Z").events.isEmpty)
    }

    @Test func fixingTheSpecClearsTheFailure() {
        let planner = ModelServicePlanner(limits: ObjectLimits(maxReplicas: 10))
        var service = Fixture.service(replicas: 50, size: 1)
        service.status = planner.plan(service: service, pods: [], now: "t0").status
        service.spec.replicas = 2
        let plan = planner.plan(service: service, pods: [], now: "t1")
        #expect(plan.status.conditions?.condition("ReplicaFailure") == nil)
        #expect(plan.create.count == 2)
    }
}
