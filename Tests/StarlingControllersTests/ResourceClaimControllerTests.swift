import StarlingAPI
import Testing

@testable import StarlingControllers

/// The claim controller's decisions, table-driven: which claims to make for which pods, which to delete, which to
/// deallocate, in every phase of a pod's life.
@Suite struct ResourceClaimControllerTests {
    static let template = ResourceClaimTemplate(
        metadata: ObjectMeta(name: "t", namespace: "default"),
        spec: ResourceClaimTemplateSpec(
            spec: ResourceClaimSpec(requests: [
                DeviceRequest(
                    name: "accelerators", exactly: ExactDeviceRequest(deviceClassName: GPUInventory.migClass))
            ])))

    enum Phase: String, Sendable, CaseIterable {
        case pending, bound, running, succeeded, failed, deleting, gone
    }

    static func pod(_ phase: Phase) -> Pod? {
        guard phase != .gone else { return nil }
        var pod = Pod(
            metadata: ObjectMeta(name: "p", namespace: "default"),
            spec: PodSpec(containers: [Container(name: "c", command: ["x"])]))
        pod.metadata.uid = "uid-p"
        pod.spec.resourceClaims = [PodResourceClaim(name: "accelerators", resourceClaimTemplateName: "t")]
        if phase != .pending { pod.spec.nodeName = "n" }
        pod.status = PodStatus(
            phase: phase == .succeeded
                ? .succeeded : phase == .failed ? .failed : phase == .pending ? .pending : .running)
        if phase == .deleting { pod.metadata.deletionTimestamp = "2026-12-05T00:00:00Z" }
        return pod
    }

    static func claim(allocated: Bool) -> ResourceClaim {
        var claim = ResourceClaim(
            metadata: ObjectMeta(
                name: "p-accelerators", namespace: "default",
                ownerReferences: [
                    OwnerReference(apiVersion: "v1", kind: "Pod", name: "p", uid: "uid-p", controller: true)
                ]),
            spec: template.spec.spec)
        if allocated {
            claim.status = ResourceClaimStatus(
                allocation: AllocationResult(
                    results: [
                        DeviceRequestAllocationResult(
                            request: "accelerators", driver: GPUInventory.driver, pool: "n",
                            device: "gpu-0-mig-3g-40gb-0")
                    ], node: "n"),
                reservedFor: [ResourceClaimConsumerReference(pod: "p", uid: "uid-p")])
        }
        return claim
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var phase: Phase
        var claimExists: Bool
        var creates: Bool
        var deletes: Bool
        var deallocates: Bool
        var testDescription: String { "\(phase), claim \(claimExists ? "made" : "not made")" }
    }

    static let cases: [Case] = [
        Case(phase: .pending, claimExists: false, creates: true, deletes: false, deallocates: false),
        Case(phase: .pending, claimExists: true, creates: false, deletes: false, deallocates: false),
        Case(phase: .running, claimExists: true, creates: false, deletes: false, deallocates: false),
        Case(phase: .bound, claimExists: true, creates: false, deletes: false, deallocates: false),
        Case(phase: .deleting, claimExists: true, creates: false, deletes: false, deallocates: false),
        Case(phase: .deleting, claimExists: false, creates: false, deletes: false, deallocates: false),
        Case(phase: .succeeded, claimExists: true, creates: false, deletes: true, deallocates: true),
        Case(phase: .failed, claimExists: true, creates: false, deletes: true, deallocates: true),
        Case(phase: .gone, claimExists: true, creates: false, deletes: false, deallocates: true),
    ]

    @Test(arguments: cases) func decidesForEveryPhase(_ c: Case) {
        let pods = Self.pod(c.phase).map { [$0] } ?? []
        let claims = c.claimExists ? [Self.claim(allocated: c.phase != .pending)] : []
        let plan = ResourceClaimController.plan(
            pods: pods, claims: claims, templates: [ObjectKey(namespace: "default", name: "t"): Self.template])
        #expect(!plan.create.isEmpty == c.creates)
        #expect(!plan.delete.isEmpty == c.deletes)
        #expect(!plan.deallocate.isEmpty == c.deallocates)
        if c.creates {
            let made = plan.create[0]
            #expect(made.metadata.name == "p-accelerators")
            #expect(made.metadata.ownerReferences?.first?.uid == "uid-p")
            #expect(made.spec == Self.template.spec.spec)
            #expect(
                plan.record[ObjectKey(namespace: "default", name: "p")]
                    == [PodResourceClaimStatus(name: "accelerators", resourceClaimName: "p-accelerators")])
        }
    }

    @Test func aMissingTemplateIsWaitedFor() {
        let plan = ResourceClaimController.plan(pods: [Self.pod(.pending)!], claims: [], templates: [:])
        #expect(plan.create.isEmpty)
        #expect(
            plan.waiting[ObjectKey(namespace: "default", name: "p")] == "waiting for ResourceClaimTemplate default/t")
    }

    @Test func aClaimLeftByAnEarlierPodOfTheSameNameIsNotTaken() {
        var earlier = Self.claim(allocated: false)
        earlier.metadata.ownerReferences = [
            OwnerReference(apiVersion: "v1", kind: "Pod", name: "p", uid: "uid-old", controller: true)
        ]
        let plan = ResourceClaimController.plan(
            pods: [Self.pod(.pending)!], claims: [earlier],
            templates: [ObjectKey(namespace: "default", name: "t"): Self.template])
        #expect(plan.create.isEmpty && plan.record.isEmpty)
    }
}
