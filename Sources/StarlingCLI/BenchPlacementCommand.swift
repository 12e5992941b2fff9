import ArgumentParser
import Foundation
import StarlingAPI
import StarlingScheduler
import StarlingTokenizer

/// `starling bench-placement`: how much partition placement fragments GPUs. The same random stream of MIG
/// requests and releases (mixed profiles, exponential lifetimes) is played against Starling's packing device choice
/// and against first-fit, on the same nodes, and the share of requests that found room is compared.
struct BenchPlacementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-placement",
        abstract: "Compare partition placement (packing) with first-fit on a random stream of MIG requests.")

    @Option(help: "Nodes, each with --gpus H100-80GB GPUs in MIG mode.")
    var nodes = 8

    @Option(help: "GPUs per node.")
    var gpus = 8

    @Option(help: "Requests in the stream.")
    var requests = 20_000

    @Option(help: "Offered load: the mean memory slices asked for at once, as a share of all of them.")
    var load = 0.9

    @Option(help: "Seed of the stream.")
    var seed: UInt64 = 1

    /// The mix of profiles asked for (weights), most of them small as serving many small models does.
    static let mix: [(String, Double)] = [
        ("1g.10gb", 0.35), ("1g.20gb", 0.15), ("2g.20gb", 0.2), ("3g.40gb", 0.15), ("4g.40gb", 0.1), ("7g.80gb", 0.05),
    ]

    struct Event {
        var time: Double
        var id: Int
        var profile: String
        var arrival: Bool
    }

    func run() async throws {
        guard nodes > 0, gpus > 0, requests > 0, load > 0 else {
            throw ValidationError("--nodes, --gpus, --requests and --load must be positive")
        }
        let events = Self.stream(
            requests: requests, slices: nodes * gpus * MIGProfile.totalMemorySlices, load: load, seed: seed)
        print("bench-placement: \(nodes) nodes x \(gpus) H100-80GB in MIG mode, \(requests) requests, load \(load)")
        print("policy       placed    refused   placed share   placed when a 7g.80gb was asked")
        for choice in DeviceAllocator.Choice.allCases {
            let result = play(events, choice: choice)
            let share = Double(result.placed) / Double(requests)
            let big = result.bigAsked == 0 ? 0 : Double(result.bigPlaced) / Double(result.bigAsked)
            print(
                choice.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(
                        format: " %7d    %7d   %11.1f%%   %8.1f%%", result.placed, requests - result.placed,
                        share * 100, big * 100))
        }
    }

    /// Poisson arrivals at rate 1, lifetimes exponential with the mean that offers `load` of `slices`.
    static func stream(requests: Int, slices: Int, load: Double, seed: UInt64) -> [Event] {
        var random = SeededRandom(seed: seed)
        let meanSlices = mix.reduce(0.0) { sum, entry in
            sum + entry.1 * Double(MIGProfile.named(entry.0)?.memorySlices ?? 1)
        }
        let lifetime = load * Double(slices) / meanSlices
        var events: [Event] = []
        var now = 0.0
        for id in 0..<requests {
            now += -log(random.unit())
            let profile = random.pick(mix)
            events.append(Event(time: now, id: id, profile: profile, arrival: true))
            events.append(
                Event(time: now - lifetime * log(random.unit()), id: id, profile: profile, arrival: false))
        }
        return events.sorted { ($0.time, $0.arrival ? 1 : 0) < ($1.time, $1.arrival ? 1 : 0) }
    }

    struct Result {
        var placed = 0
        var bigAsked = 0
        var bigPlaced = 0
    }

    func play(_ events: [Event], choice: DeviceAllocator.Choice) -> Result {
        let names = (0..<nodes).map { "node-\($0)" }
        let slices = names.flatMap {
            GPUInventory.simulated(node: $0, acceleratorType: "H100-80GB", count: gpus, mig: Set(0..<gpus))
                .resourceSlices()
        }
        var state = DeviceState(slices: slices)
        var allocator = DeviceAllocator(classes: GPUInventory.deviceClasses())
        allocator.choice = choice
        var held: [Int: [DeviceID]] = [:]
        var result = Result()
        for event in events {
            if !event.arrival {
                for id in held.removeValue(forKey: event.id) ?? [] { state.release(id) }
                continue
            }
            let spec = ResourceClaimSpec(requests: [
                DeviceRequest(
                    name: "accelerators",
                    exactly: ExactDeviceRequest(
                        deviceClassName: GPUInventory.migClass,
                        selectors: [
                            DeviceSelector(
                                #"device.attributes["\#(GPUInventory.driver)"].profile == "\#(event.profile)""#)
                        ]))
            ])
            if event.profile == "7g.80gb" { result.bigAsked += 1 }
            // Nodes best fit first (fewest free devices), the same for both policies: only the device choice differs.
            let order = names.sorted { (state.freeDevices(on: $0), $0) < (state.freeDevices(on: $1), $1) }
            for node in order {
                if case .success(let results) = allocator.allocate(spec, on: node, state: &state) {
                    held[event.id] = results.map(DeviceID.init)
                    result.placed += 1
                    if event.profile == "7g.80gb" { result.bigPlaced += 1 }
                    break
                }
            }
        }
        return result
    }
}
