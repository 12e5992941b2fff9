import StarlingAPI
import Testing

@testable import StarlingScheduler

/// Gangs whose pods carry DRA claims: claims are allocated as the pods are placed, all of a gang or none.
@Suite struct GangClaimSchedulingTests {
    static func partition(_ profile: String) -> ResourceClaimSpec {
        ResourceClaimSpec(requests: [
            DeviceRequest(
                name: "accelerators",
                exactly: ExactDeviceRequest(
                    deviceClassName: GPUInventory.migClass,
                    selectors: [
                        DeviceSelector(#"device.attributes["\#(GPUInventory.driver)"].profile == "\#(profile)""#)
                    ]))
        ])
    }

    @Test func twoHalvesOfOneGPUAndAThirdThatWaits() {
        let nodes = [node("a", devices: 1, mig: [0])]
        let d = schedule(
            nodes,
            [
                gang("r0", pods: 1, devices: 0, type: nil, claims: [Self.partition("3g.40gb")]),
                gang("r1", pods: 1, devices: 0, type: nil, claims: [Self.partition("3g.40gb")]),
                gang("r2", pods: 1, devices: 0, type: nil, claims: [Self.partition("3g.40gb")]),
            ])
        #expect(
            Set(d.placements.flatMap { $0.claims.values.flatMap { $0.map(\.device) } })
                == ["gpu-0-mig-3g-40gb-0", "gpu-0-mig-3g-40gb-4"])
        #expect(d.unschedulable.map(\.pod.name) == ["r2-0"])
        #expect(
            d.unschedulable.first?.message
                == "0/1 nodes are available for all pods: needs 1 x 3g.40gb; 1 node: claim r2-0-claim-0: "
                + "request accelerators: 1 of mig.starling.dev with its selectors wanted; 0 of 2 free")
    }

    @Test func aGangWhoseLastPodDoesNotFitAllocatesNothing() {
        // Two nodes of one MIG GPU each, one already holding a 4g.40gb: a gang of three 4g.40gb pods fits twice.
        var busy = node("b", devices: 1, mig: [0])
        busy.used = [DeviceID(driver: GPUInventory.driver, pool: "b", device: "gpu-0-mig-4g-40gb-0")]
        let d = schedule(
            [node("a", devices: 1, mig: [0]), busy, node("c", devices: 1, mig: [0])],
            [gang("g", pods: 3, devices: 0, type: nil, claims: [Self.partition("4g.40gb")], distinct: true)])
        #expect(d.placements.isEmpty)
        #expect(d.unschedulable.count == 3)
        #expect(d.unschedulable[0].message.contains("gang g needs 3 pods of 1 x 4g.40gb at once"), "\(d.unschedulable)")
        #expect(d.unschedulable[0].message.contains("2 nodes: holds another pod of the gang"))
        // With the third node free it fits, one pod per node.
        let ok = schedule(
            [node("a", devices: 1, mig: [0]), node("b", devices: 1, mig: [0]), node("c", devices: 1, mig: [0])],
            [gang("g", pods: 3, devices: 0, type: nil, claims: [Self.partition("4g.40gb")], distinct: true)])
        #expect(Set(ok.placements.map(\.node)) == ["a", "b", "c"])
    }

    @Test func extendedResourcePodsAndClaimsShareTheDevices() {
        // A whole-GPU pod on a MIG GPU takes its partitions away, and the other way round.
        let d = schedule(
            [node("a", devices: 2, mig: [0, 1])],
            [
                gang("a-whole", pods: 1, devices: 1),
                gang("b-slice", pods: 1, devices: 0, type: nil, claims: [Self.partition("7g.80gb")]),
                gang("c-more", pods: 1, devices: 0, type: nil, claims: [Self.partition("1g.10gb")]),
            ])
        #expect(d.placements.count == 2)
        #expect(d.unschedulable.map(\.pod.name) == ["c-more-0"])
    }

    @Test func aPodPinnedByAnAllocatedClaimGoesToItsNode() {
        var pinned = gang("p", pods: 1, devices: 0, type: nil)
        pinned.pods[0].pinnedNode = "b"
        let d = schedule([node("a"), node("b")], [pinned])
        #expect(d.placements.map(\.node) == ["b"])
    }
}

/// A claim's devices are in use exactly while a pod it is reserved for has not finished: whatever phase the pod
/// is in when it goes, the counters come back.
@Suite struct ClaimReleaseTests {
    enum Phase: String, Sendable, CaseIterable {
        case pending, running, deleting, succeeded, failed, gone
    }

    static let inUse: [Phase: Bool] = [
        .pending: true, .running: true, .deleting: true, .succeeded: false, .failed: false, .gone: false,
    ]

    @Test(arguments: Phase.allCases) func devicesReturnWhenThePodGoes(_ phase: Phase) {
        let node = Node(
            metadata: ObjectMeta(
                name: "n", labels: [WellKnown.acceleratorTypeLabel: "H100-80GB"],
                annotations: [WellKnown.migDevicesAnnotation: "0"]),
            status: NodeStatus(capacity: [WellKnown.acceleratorResource: "1"]))
        let slices = GPUInventory(node: node)?.resourceSlices() ?? []
        var pods: [Pod] = []
        if phase != .gone {
            var pod = Pod(
                metadata: ObjectMeta(name: "p", namespace: "default"),
                spec: PodSpec(containers: [Container(name: "c", command: ["x"])], nodeName: "n"))
            pod.metadata.uid = "uid-p"
            pod.status = PodStatus(
                phase: phase == .succeeded ? .succeeded : phase == .failed ? .failed : .running)
            if phase == .deleting { pod.metadata.deletionTimestamp = "2026-12-05T00:00:00Z" }
            pods.append(pod)
        }
        var claim = ResourceClaim(
            metadata: ObjectMeta(name: "p-accelerators", namespace: "default"),
            spec: GangClaimSchedulingTests.partition("3g.40gb"))
        claim.status = ResourceClaimStatus(
            allocation: AllocationResult(
                results: [
                    DeviceRequestAllocationResult(
                        request: "accelerators", driver: GPUInventory.driver, pool: "n", device: "gpu-0-mig-3g-40gb-0")
                ], node: "n"),
            reservedFor: [ResourceClaimConsumerReference(pod: "p", uid: "uid-p")])
        let input = SchedulerService.input(nodes: [node], pods: pods, claims: [claim], slices: slices, assumed: [:])
        let counters = input.devices.remaining(driver: GPUInventory.driver, pool: "n", set: "gpu-0")
        let taken = counters.values.filter { $0 == 0 }.count
        if Self.inUse[phase] == true {
            // memory slices 0-3 and compute slices 0-2
            #expect(taken == 7)
            #expect(input.devices.freeDevices(on: "n") < 19)
        } else {
            #expect(taken == 0)
            #expect(input.devices.freeDevices(on: "n") == 19)
        }
    }
}
