import StarlingAPI
import Testing

@testable import StarlingScheduler

/// A node for scheduler fixtures: what the scheduler knows of it, its published devices and those in use.
struct TestNode {
    var info: NodeInfo
    var slices: [ResourceSlice]
    var used: [DeviceID]
}

/// Builders for scheduler fixtures.
func node(
    _ name: String, _ type: String? = "H100-80GB", devices: Int = 8, used: Set<Int> = [], rack: String? = nil,
    mig: Set<Int> = []
)
    -> TestNode
{
    var labels = rack.map { [WellKnown.rackLabel: $0] } ?? [:]
    if let type { labels[WellKnown.acceleratorTypeLabel] = type }
    let slices =
        type.map {
            GPUInventory.simulated(node: name, acceleratorType: $0, count: devices, mig: mig).resourceSlices()
        } ?? []
    return TestNode(
        info: NodeInfo(name: name, labels: labels, acceleratorType: type), slices: slices,
        used: used.map { DeviceID(driver: GPUInventory.driver, pool: name, device: GPUInventory.deviceName(gpu: $0)) })
}

func gang(
    _ name: String, pods: Int, devices: Int, type: String? = "H100-80GB", size: Int? = nil, priority: Int = 0,
    claims: [ResourceClaimSpec] = [], distinct: Bool = false, exclusive: String? = nil
)
    -> Gang
{
    let selector = type.map { [WellKnown.acceleratorTypeLabel: $0] } ?? [:]
    return Gang(
        name: name,
        pods: (0..<pods).map { i in
            PodRequest(
                namespace: "default", name: "\(name)-\(i)", devices: devices, nodeSelector: selector,
                claims: claims.enumerated().map { PodClaim(name: "\(name)-\(i)-claim-\($0.offset)", spec: $0.element) })
        },
        size: size, priority: priority, creationOrder: name, distinctNodes: distinct, exclusiveTopology: exclusive)
}

/// Schedules `gangs` on `nodes` with Starling's device classes.
func schedule(
    _ nodes: [TestNode], _ gangs: [Gang], topology: TopologyOccupancy = TopologyOccupancy()
) -> SchedulingDecision {
    var scheduler = GangScheduler()
    return scheduler.schedule(
        nodes: nodes.map(\.info), gangs: gangs,
        devices: DeviceState(slices: nodes.flatMap(\.slices), allocated: nodes.flatMap(\.used)), topology: topology)
}

@Suite struct GangSchedulerTests {
    @Test func placesAWholeGangAndGivesDistinctDevices() {
        let d = schedule([node("a"), node("b")], [gang("g", pods: 2, devices: 8)])
        #expect(d.unschedulable.isEmpty)
        #expect(Set(d.placements.map(\.node)) == ["a", "b"])
        #expect(d.placements.allSatisfy { $0.devices == Array(0..<8) })
    }

    @Test func aGangThatDoesNotFitPlacesNothing() {
        let d = schedule([node("a"), node("b", used: [0])], [gang("g", pods: 2, devices: 8)])
        #expect(d.placements.isEmpty)
        #expect(d.unschedulable.count == 2)
        #expect(d.unschedulable[0].message.contains("gang g needs 2 pods of 8 x H100-80GB at once"))
    }

    @Test(arguments: [
        (Set<Int>([0, 1, 2]), [3, 4]), (Set<Int>([]), [0, 1]), (Set<Int>([1, 3]), [0, 2]),
    ])
    func devicesAreLowestFreeIndexes(used: Set<Int>, expected: [Int]) {
        let d = schedule([node("a", used: used)], [gang("g", pods: 1, devices: 2)])
        #expect(d.placements.first?.devices == expected)
    }

    @Test func bestFitKeepsWholeNodesForLargeRequests() {
        let nodes = [node("a"), node("b", used: Set(0..<6))]
        let d = schedule(
            nodes, [gang("small", pods: 1, devices: 2), gang("big", pods: 1, devices: 8)])
        #expect(d.placements.first { $0.pod.name == "small-0" }?.node == "b")
        #expect(d.placements.first { $0.pod.name == "big-0" }?.node == "a")
    }

    @Test func acceleratorTypeMustMatch() {
        let d = schedule([node("a", "A100-80GB")], [gang("g", pods: 1, devices: 1)])
        #expect(d.placements.isEmpty)
        #expect(d.unschedulable[0].message.contains("accelerator type is A100-80GB, not H100-80GB"))
    }

    @Test func missingMembersReserveRoom() {
        // A LeaderReady group: only the leader exists, but the gang of 2 must fit.
        let d = schedule([node("a")], [gang("g", pods: 1, devices: 8, size: 2)])
        #expect(d.placements.isEmpty)
        let ok = schedule([node("a"), node("b")], [gang("g", pods: 1, devices: 8, size: 2)])
        #expect(ok.placements.count == 1)
    }

    @Test func higherPriorityGoesFirst() {
        let d = schedule(
            [node("a", devices: 4)],
            [gang("low", pods: 1, devices: 4, priority: 0), gang("high", pods: 1, devices: 4, priority: 10)])
        #expect(d.placements.map(\.pod.name) == ["high-0"])
        #expect(d.unschedulable.map(\.pod.name) == ["low-0"])
    }

    @Test func podsWithoutAcceleratorsFitAnywhere() {
        let d = schedule(
            [node("a", nil, devices: 0)], [gang("cpu", pods: 2, devices: 0, type: nil)])
        #expect(d.placements.count == 2)
    }

    @Test func noNodesIsExplained() {
        let d = schedule([], [gang("g", pods: 1, devices: 1)])
        #expect(d.unschedulable[0].message.contains("no nodes are registered"))
    }

    @Test func inputCountsBoundPodsAndGroupsGangs() {
        var bound = Pod(
            metadata: ObjectMeta(name: "x", namespace: "default", annotations: [WellKnown.devicesAnnotation: "0,1"]),
            spec: PodSpec(containers: [Container(name: "c", command: ["x"])], nodeName: "a"))
        bound.status = PodStatus(phase: .running)
        let pending = Pod(
            metadata: ObjectMeta(
                name: "y", namespace: "default", labels: [WellKnown.gangLabel: "g"],
                annotations: [WellKnown.gangSizeAnnotation: "2"]),
            spec: PodSpec(containers: [Container(name: "c", command: ["x"])]))
        let n = Node(
            metadata: ObjectMeta(name: "a", labels: [WellKnown.acceleratorTypeLabel: "H100-80GB"]),
            status: NodeStatus(capacity: [WellKnown.acceleratorResource: "8"]))
        let slices = GPUInventory(node: n)?.resourceSlices() ?? []
        let input = SchedulerService.input(nodes: [n], pods: [bound, pending], slices: slices, assumed: [:])
        #expect(input.devices.allocated.map(\.device).sorted() == ["gpu-0", "gpu-1"])
        #expect(input.devices.freeDevices(on: "a") == 6)
        #expect(input.gangs.map(\.name) == ["default/g"])
        #expect(input.gangs.first?.size == 2)
    }
}
