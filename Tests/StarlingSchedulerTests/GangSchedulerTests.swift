import StarlingAPI
import Testing

@testable import StarlingScheduler

/// Builders for scheduler fixtures.
func node(
    _ name: String, _ type: String? = "H100-80GB", devices: Int = 8, used: Set<Int> = [], rack: String? = nil
)
    -> NodeInfo
{
    NodeInfo(
        name: name, labels: rack.map { [WellKnown.rackLabel: $0] } ?? [:], acceleratorType: type, deviceCount: devices,
        allocated: used)
}

func gang(
    _ name: String, pods: Int, devices: Int, type: String? = "H100-80GB", size: Int? = nil, priority: Int = 0
)
    -> Gang
{
    let selector = type.map { [WellKnown.acceleratorTypeLabel: $0] } ?? [:]
    return Gang(
        name: name,
        pods: (0..<pods).map {
            PodRequest(namespace: "default", name: "\(name)-\($0)", devices: devices, nodeSelector: selector)
        },
        size: size, priority: priority, creationOrder: name)
}

@Suite struct GangSchedulerTests {
    let scheduler = GangScheduler()

    @Test func placesAWholeGangAndGivesDistinctDevices() {
        let d = scheduler.schedule(nodes: [node("a"), node("b")], gangs: [gang("g", pods: 2, devices: 8)])
        #expect(d.unschedulable.isEmpty)
        #expect(Set(d.placements.map(\.node)) == ["a", "b"])
        #expect(d.placements.allSatisfy { $0.devices == Array(0..<8) })
    }

    @Test func aGangThatDoesNotFitPlacesNothing() {
        let d = scheduler.schedule(nodes: [node("a"), node("b", used: [0])], gangs: [gang("g", pods: 2, devices: 8)])
        #expect(d.placements.isEmpty)
        #expect(d.unschedulable.count == 2)
        #expect(d.unschedulable[0].message.contains("gang g needs 2 pods of 8 x H100-80GB at once"))
    }

    @Test(arguments: [
        (Set<Int>([0, 1, 2]), [3, 4]), (Set<Int>([]), [0, 1]), (Set<Int>([1, 3]), [0, 2]),
    ])
    func devicesAreLowestFreeIndexes(used: Set<Int>, expected: [Int]) {
        let d = scheduler.schedule(nodes: [node("a", used: used)], gangs: [gang("g", pods: 1, devices: 2)])
        #expect(d.placements.first?.devices == expected)
    }

    @Test func bestFitKeepsWholeNodesForLargeRequests() {
        let nodes = [node("a"), node("b", used: Set(0..<6))]
        let d = scheduler.schedule(
            nodes: nodes, gangs: [gang("small", pods: 1, devices: 2), gang("big", pods: 1, devices: 8)])
        #expect(d.placements.first { $0.pod.name == "small-0" }?.node == "b")
        #expect(d.placements.first { $0.pod.name == "big-0" }?.node == "a")
    }

    @Test func acceleratorTypeMustMatch() {
        let d = scheduler.schedule(nodes: [node("a", "A100-80GB")], gangs: [gang("g", pods: 1, devices: 1)])
        #expect(d.placements.isEmpty)
        #expect(d.unschedulable[0].message.contains("accelerator type is A100-80GB, not H100-80GB"))
    }

    @Test func missingMembersReserveRoom() {
        // A LeaderReady group: only the leader exists, but the gang of 2 must fit.
        let d = scheduler.schedule(nodes: [node("a")], gangs: [gang("g", pods: 1, devices: 8, size: 2)])
        #expect(d.placements.isEmpty)
        let ok = scheduler.schedule(nodes: [node("a"), node("b")], gangs: [gang("g", pods: 1, devices: 8, size: 2)])
        #expect(ok.placements.count == 1)
    }

    @Test func higherPriorityGoesFirst() {
        let d = scheduler.schedule(
            nodes: [node("a", devices: 4)],
            gangs: [gang("low", pods: 1, devices: 4, priority: 0), gang("high", pods: 1, devices: 4, priority: 10)])
        #expect(d.placements.map(\.pod.name) == ["high-0"])
        #expect(d.unschedulable.map(\.pod.name) == ["low-0"])
    }

    @Test func podsWithoutAcceleratorsFitAnywhere() {
        let d = scheduler.schedule(
            nodes: [node("a", nil, devices: 0)], gangs: [gang("cpu", pods: 2, devices: 0, type: nil)])
        #expect(d.placements.count == 2)
    }

    @Test func noNodesIsExplained() {
        let d = scheduler.schedule(nodes: [], gangs: [gang("g", pods: 1, devices: 1)])
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
        let input = SchedulerService.input(nodes: [n], pods: [bound, pending], assumed: [:])
        #expect(input.nodes.first?.allocated == [0, 1])
        #expect(input.gangs.map(\.name) == ["default/g"])
        #expect(input.gangs.first?.size == 2)
    }
}
