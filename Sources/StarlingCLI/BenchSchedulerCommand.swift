import ArgumentParser
import Foundation
import StarlingAPI
import StarlingControllers
import StarlingScheduler
import StarlingTokenizer

/// `starling bench-scheduler`: how fast the gang scheduler places pods with DRA claims on a large simulated
/// cluster. Gangs of 1 to 8 pods arrive one after another, each asking for a whole H100 or a MIG partition per
/// pod through the same claims a ModelService makes, and are placed by one scheduling session, as the scheduler's
/// pass places its pending gangs. It reports placements per second and the time per gang, against
/// kube-scheduler's published throughput and against the same scheduler trying every node for every pod.
struct BenchSchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-scheduler",
        abstract: "Measure gang placement with DRA claims on thousands of simulated GPU nodes.")

    @Option(help: "Nodes, each with --gpus H100-80GB GPUs.")
    var nodes = 5_000

    @Option(help: "GPUs per node.")
    var gpus = 8

    @Option(help: "Share of the nodes whose GPUs are in MIG mode (publishing their partitions).")
    var migShare = 0.25

    @Option(help: "Pods to place, in gangs.")
    var pods = 50_000

    @Option(help: "Largest gang (pods placed together, one per node); sizes are uniform from 1.")
    var maxGang = 8

    @Option(help: "Share of the gangs whose pods ask for a MIG partition instead of a whole GPU.")
    var partitionShare = 0.4

    @Option(help: "Pods the baseline (every node tried for every pod) places, on a fresh cluster.")
    var baselinePods = 300

    @Option(help: "Seed of the workload.")
    var seed: UInt64 = 1

    /// kube-scheduler's published throughput (REFERENCE.md): scheduler_perf, 5,000 nodes.
    static let kubeWithoutDRA = 680.0...810.0
    static let kubeWithDRA = 64.0...273.0

    /// Partition profiles asked for (weights).
    static let profiles: [(String, Double)] = [("1g.10gb", 0.5), ("2g.20gb", 0.3), ("3g.40gb", 0.2)]

    func run() async throws {
        guard nodes > 0, gpus > 0, pods > 0, maxGang > 0, (0...1).contains(migShare), (0...1).contains(partitionShare)
        else {
            throw ValidationError(
                "--nodes, --gpus, --pods and --max-gang must be positive; --mig-share and --partition-share 0 to 1")
        }
        let clock = ContinuousClock()
        let cluster = Self.cluster(nodes: nodes, gpus: gpus, migShare: migShare)
        let gangs = Self.workload(pods: pods, maxGang: maxGang, partitionShare: partitionShare, seed: seed)
        let migNodes = cluster.nodes.filter { $0.labels["bench.starling.dev/mig"] == "true" }.count
        print(
            "bench-scheduler: \(nodes) nodes x \(gpus) H100-80GB (\(migNodes) in MIG mode), \(pods) pods in "
                + "\(gangs.count) gangs of 1-\(maxGang), \(Int(partitionShare * 100))% of gangs on partitions")

        let setupStart = clock.now
        var session = GangScheduler.Session(scheduler: GangScheduler(), nodes: cluster.nodes, devices: cluster.devices)
        let setup = clock.now - setupStart
        let run = Self.play(gangs, session: &session, clock: clock)

        var baselineSession = GangScheduler.Session(
            scheduler: GangScheduler(), nodes: cluster.nodes, devices: cluster.devices, indexed: false)
        var taken = 0
        let baselineGangs = gangs.prefix { gang in
            defer { taken += gang.pods.count }
            return taken < baselinePods
        }
        let baseline = Self.play(Array(baselineGangs), session: &baselineSession, clock: clock)

        let rate = Double(run.placedPods) / run.seconds
        let baselineRate = Double(baseline.placedPods) / baseline.seconds
        print("")
        print("                          pods placed   refused   seconds   pods/s    gang p50   gang p99   gang max")
        for (name, result) in [("starling (indexed)", run), ("starling, every node", baseline)] {
            let p = result.percentiles
            print(
                name.padding(toLength: 24, withPad: " ", startingAt: 0)
                    + String(
                        format: "  %11d   %7d   %7.2f   %7.0f   %6.3f ms  %6.3f ms  %6.3f ms", result.placedPods,
                        result.refusedPods, result.seconds, Double(result.placedPods) / result.seconds, p.p50 * 1000,
                        p.p99 * 1000, p.max * 1000))
        }
        print("")
        print(String(format: "session setup (sorting nodes, free counts): %.3f s", setup.seconds))
        print(
            String(
                format: "against kube-scheduler without DRA (%.0f-%.0f pods/s): %.1fx-%.1fx; with DRA claims "
                    + "(%.0f-%.0f pods/s): %.0fx-%.0fx; against every node tried: %.0fx",
                Self.kubeWithoutDRA.lowerBound, Self.kubeWithoutDRA.upperBound, rate / Self.kubeWithoutDRA.upperBound,
                rate / Self.kubeWithoutDRA.lowerBound, Self.kubeWithDRA.lowerBound, Self.kubeWithDRA.upperBound,
                rate / Self.kubeWithDRA.upperBound, rate / Self.kubeWithDRA.lowerBound, rate / baselineRate))
        let target = 10 * Self.kubeWithoutDRA.upperBound
        print(
            String(
                format: "target (10x kube-scheduler without DRA, %.0f pods/s): %@", target,
                rate >= target ? "met" : "NOT met"))
    }

    struct Cluster {
        var nodes: [NodeInfo]
        var devices: DeviceState
    }

    /// `count` nodes of `gpus` H100s, every 1/migShare-th with its GPUs in MIG mode, in racks of 32.
    static func cluster(nodes count: Int, gpus: Int, migShare: Double) -> Cluster {
        let every = migShare > 0 ? max(1, Int((1 / migShare).rounded())) : Int.max
        var nodes: [NodeInfo] = []
        var slices: [ResourceSlice] = []
        for i in 0..<count {
            let name = String(format: "node-%05d", i)
            let mig = i % every == 0
            nodes.append(
                NodeInfo(
                    name: name,
                    labels: [
                        WellKnown.acceleratorTypeLabel: "H100-80GB", "topology.starling.dev/rack": "rack-\(i / 32)",
                        "bench.starling.dev/mig": mig ? "true" : "false",
                    ], acceleratorType: "H100-80GB"))
            slices += GPUInventory.simulated(
                node: name, acceleratorType: "H100-80GB", count: gpus, mig: mig ? Set(0..<gpus) : []
            ).resourceSlices()
        }
        return Cluster(nodes: nodes, devices: DeviceState(slices: slices))
    }

    /// Gangs until `pods` pods: sizes uniform in 1...maxGang, each pod with the claim a ModelService's pod gets
    /// for one whole H100 or one partition.
    static func workload(pods: Int, maxGang: Int, partitionShare: Double, seed: UInt64) -> [Gang] {
        var random = SeededRandom(seed: seed)
        let whole = AcceleratorClaims.claimSpec(AcceleratorSpec(type: "H100-80GB", count: 1))!
        let partitions = profiles.map { profile in
            (AcceleratorClaims.claimSpec(AcceleratorSpec(type: "H100-80GB", partition: profile.0))!, profile.1)
        }
        var gangs: [Gang] = []
        var total = 0
        while total < pods {
            let size = min(1 + Int(random.unit() * Double(maxGang)) % maxGang, pods - total)
            let spec = random.unit() < partitionShare ? random.pick(partitions) : whole
            let name = "gang-\(gangs.count)"
            let members = (0..<size).map { w in
                PodRequest(
                    namespace: "bench", name: "\(name)-\(w)",
                    claims: [PodClaim(name: "\(name)-\(w)-accelerators", spec: spec)], uid: "uid-\(name)-\(w)")
            }
            gangs.append(Gang(name: name, pods: members, distinctNodes: size > 1))
            total += size
        }
        return gangs
    }

    struct Run {
        var placedPods = 0
        var refusedPods = 0
        var seconds = 0.0
        var perGang: [Double] = []

        var percentiles: (p50: Double, p99: Double, max: Double) {
            let sorted = perGang.sorted()
            guard !sorted.isEmpty else { return (0, 0, 0) }
            func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] }
            return (at(0.5), at(0.99), sorted.last!)
        }
    }

    /// Places the gangs in order, timing each.
    static func play(_ gangs: [Gang], session: inout GangScheduler.Session, clock: ContinuousClock) -> Run {
        var run = Run()
        run.perGang.reserveCapacity(gangs.count)
        let start = clock.now
        for gang in gangs {
            let begin = clock.now
            let outcome = session.place(gang)
            run.perGang.append((clock.now - begin).seconds)
            switch outcome {
            case .success(let placements): run.placedPods += placements.count
            case .failure: run.refusedPods += gang.pods.count
            }
        }
        run.seconds = (clock.now - start).seconds
        return run
    }
}
