import StarlingAPI
import StarlingTokenizer
import Testing

@testable import StarlingScheduler

/// The candidate index only narrows which nodes a pod tries: a session with it places every gang exactly where a
/// session trying every node, tightest first, places it.
@Suite struct CandidateIndexTests {
    static func wholeGPU(count: Int) -> ResourceClaimSpec {
        ResourceClaimSpec(requests: [
            DeviceRequest(
                name: "accelerators",
                exactly: ExactDeviceRequest(
                    deviceClassName: GPUInventory.gpuClass,
                    selectors: [
                        DeviceSelector(#"device.attributes["\#(GPUInventory.driver)"].productName == "H100-80GB""#)
                    ], count: count))
        ])
    }

    /// A random stream of gangs of 1-4 pods asking for 1 or 2 whole GPUs, a partition, or nothing.
    static func gangs(_ count: Int, seed: UInt64) -> [Gang] {
        var random = SeededRandom(seed: seed)
        let profiles = ["1g.10gb", "2g.20gb", "3g.40gb", "7g.80gb"]
        return (0..<count).map { g in
            let size = 1 + Int(random.next() % 4)
            let pick = Int(random.next() % 6)
            let spec: ResourceClaimSpec? =
                switch pick {
                case 0: nil
                case 1, 2: wholeGPU(count: 1 + pick / 2)
                default: GangClaimSchedulingTests.partition(profiles[Int(random.next() % 4)])
                }
            let pods = (0..<size).map { w in
                PodRequest(
                    namespace: "t", name: "g\(g)-\(w)",
                    claims: spec.map { [PodClaim(name: "g\(g)-\(w)-claim", spec: $0)] } ?? [])
            }
            return Gang(name: "g\(g)", pods: pods, distinctNodes: size > 1)
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func indexedPlacementMatchesTryingEveryNode(seed: UInt64) {
        var slices: [ResourceSlice] = []
        var nodes: [NodeInfo] = []
        for i in 0..<12 {
            let name = "node-\(i)"
            nodes.append(NodeInfo(name: name, acceleratorType: "H100-80GB"))
            slices += GPUInventory.simulated(
                node: name, acceleratorType: "H100-80GB", count: 2, mig: i % 3 == 0 ? [0, 1] : []
            ).resourceSlices()
        }
        let devices = DeviceState(slices: slices)
        var indexed = GangScheduler.Session(scheduler: GangScheduler(), nodes: nodes, devices: devices)
        var scanning = GangScheduler.Session(
            scheduler: GangScheduler(), nodes: nodes, devices: devices, indexed: false)
        var placed = 0
        var refused = 0
        for gang in Self.gangs(120, seed: seed) {
            let a = indexed.place(gang)
            let b = scanning.place(gang)
            #expect(a == b, "gang \(gang.name)")
            if case .success = a { placed += 1 } else { refused += 1 }
        }
        // The stream fills the cluster: both outcomes are exercised.
        #expect(placed > 10 && refused > 10, "placed \(placed), refused \(refused)")
        #expect(indexed.devices.allocated == scanning.devices.allocated)
    }

    @Test func aGangAskingWhatWasRefusedIsRefusedWithItsOwnName() {
        let nodes = [node("a", devices: 1), node("b", devices: 1)]
        var session = GangScheduler.Session(
            scheduler: GangScheduler(), nodes: nodes.map(\.info), devices: DeviceState(slices: nodes.flatMap(\.slices)))
        // Three pods of one GPU each, a node each: two nodes hold two of them.
        guard case .failure(let first) = session.place(gang("big", pods: 3, devices: 1, distinct: true)) else {
            Issue.record("three pods fit on two nodes")
            return
        }
        #expect(first.message.contains("gang big needs 3 pods"))
        // A smaller gang asking the same still fits; a larger one is refused, naming itself.
        guard case .success = session.place(gang("pair", pods: 2, devices: 1, distinct: true)) else {
            Issue.record("two pods fit on two nodes")
            return
        }
        guard case .failure(let single) = session.place(gang("one", pods: 1, devices: 1, distinct: true)) else {
            Issue.record("a pod fits on full nodes")
            return
        }
        #expect(single.message.contains("needs 1 x H100-80GB"))
        guard case .failure(let four) = session.place(gang("four", pods: 4, devices: 1, distinct: true)) else {
            Issue.record("four pods fit on full nodes")
            return
        }
        #expect(four.message.contains("gang four needs 4 pods of 1 x H100-80GB at once"))
        #expect(four.message.contains("2 nodes:"), "the reasons of the scan that refused \"one\": \(four.message)")
    }
}
