import StarlingAPI
import Testing

@testable import StarlingScheduler

/// LeaderWorkerSet's exclusive placement: a group's pods all in one topology domain, one group per domain, and
/// an explanation naming each domain when none is left.
@Suite struct ExclusiveTopologyTests {
    static let rack = WellKnown.rackLabel
    static let racks = [
        node("a0", rack: "rack-a"), node("a1", rack: "rack-a"), node("b0", rack: "rack-b"), node("b1", rack: "rack-b"),
    ]

    static func group(_ name: String) -> Gang { gang(name, pods: 2, devices: 8, exclusive: rack) }

    @Test func eachGroupTakesARackOfItsOwnAndAThirdIsExplained() throws {
        let d = schedule(Self.racks, [Self.group("g1"), Self.group("g2"), Self.group("g3")])
        let racks = Dictionary(grouping: d.placements, by: \.gang).mapValues {
            Set($0.map { String($0.node.prefix(1)) })
        }
        #expect(racks["g1"]?.count == 1 && racks["g2"]?.count == 1 && racks["g1"] != racks["g2"], "\(racks)")
        #expect(d.unschedulable.map(\.pod.name) == ["g3-0", "g3-1"])
        #expect(
            d.unschedulable.first?.message
                == "0/4 nodes are available: gang g3 needs its 2 pods in one \(Self.rack) domain that no other group "
                + "holds; rack-a: holds gang g1; rack-b: holds gang g2")
    }

    @Test func aRackWithTooFewFreeNodesSaysHowManyFit() {
        let nodes = [
            node("a0", rack: "rack-a"), node("a1", used: [0], rack: "rack-a"), node("b0", rack: "rack-b"),
        ]
        let d = schedule(nodes, [Self.group("g")])
        #expect(d.placements.isEmpty)
        let message = d.unschedulable.first?.message ?? ""
        #expect(message.contains("rack-a: 1 of 2 pods fit on its 2 nodes"), "\(message)")
        #expect(message.contains("rack-b: 1 of 2 pods fit on its 1 node"), "\(message)")
    }

    @Test func aRackWithAnotherGroupIsNotTakenAndAHeldRackIsNotEntered() {
        // rack-a holds an ordinary pod of gang x; rack-b is held exclusively by gang y.
        var topology = TopologyOccupancy(keys: [Self.rack])
        topology.record(gang: "x", on: Self.racks[0].info, exclusiveKey: nil)
        topology.record(gang: "y", on: Self.racks[2].info, exclusiveKey: Self.rack)
        let d = schedule(Self.racks, [Self.group("g")], topology: topology)
        #expect(d.placements.isEmpty)
        #expect(d.unschedulable.first?.message.contains("rack-a: holds gang x; rack-b: holds gang y") == true)
        // An ordinary gang may share rack-a but stays out of rack-b.
        let ordinary = schedule(Self.racks, [gang("o", pods: 2, devices: 8)], topology: topology)
        #expect(Set(ordinary.placements.map(\.node)) == ["a0", "a1"])
    }

    @Test func theTightestRackIsChosen() {
        let nodes = [
            node("a0", rack: "rack-a"), node("a1", rack: "rack-a"), node("b0", used: [0, 1, 2, 3], rack: "rack-b"),
            node("b1", used: [0, 1, 2, 3], rack: "rack-b"),
        ]
        let d = schedule(nodes, [gang("g", pods: 2, devices: 4, exclusive: Self.rack)])
        #expect(Set(d.placements.map(\.node)) == ["b0", "b1"])
    }
}
