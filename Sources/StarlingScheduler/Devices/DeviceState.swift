import StarlingAPI

/// A device by where it is published: driver, pool and name, as an allocation result names it.
public struct DeviceID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var driver: String
    public var pool: String
    public var device: String

    public init(driver: String, pool: String, device: String) {
        self.driver = driver
        self.pool = pool
        self.device = device
    }

    public init(_ result: DeviceRequestAllocationResult) {
        self.init(driver: result.driver, pool: result.pool, device: result.device)
    }

    public static func < (a: Self, b: Self) -> Bool { (a.driver, a.pool, a.device) < (b.driver, b.pool, b.device) }
    public var description: String { "\(driver)/\(pool)/\(device)" }
}

/// Every published device and what is in use: allocated devices and the shared counters they consume. A value:
/// the scheduler copies it to try a gang and keeps the copy only when the whole gang fits.
public struct DeviceState: Sendable {
    struct CounterKey: Hashable, Sendable {
        var driver: String
        var pool: String
        var set: String
        var counter: String
    }

    struct Candidate: Sendable {
        var id: DeviceID
        var selectable: SelectableDevice
        /// Counters used while allocated.
        var consumes: [CounterKey: Double]
        /// The counter sets it draws on.
        var sets: Set<CounterKey>
        /// How much it consumes in all: partitions that consume more are larger.
        var size: Double
    }

    /// Devices per node (`""` holds devices reachable from every node), in name order.
    var devicesByNode: [String: [Candidate]] = [:]
    /// Devices drawing on each counter set (keyed with an empty counter name).
    var devicesBySet: [CounterKey: [Candidate]] = [:]
    var byID: [DeviceID: Candidate] = [:]
    var remaining: [CounterKey: Double] = [:]
    public private(set) var allocated: Set<DeviceID> = []

    /// Builds the state from the newest generation of each pool's slices, with `allocated` (from claims'
    /// allocations) in use. Devices consuming a counter set no slice of their pool publishes are left out.
    public init(slices: [ResourceSlice], allocated: some Sequence<DeviceID> = []) {
        var newest: [String: Int] = [:]
        for slice in slices {
            let key = "\(slice.spec.driver)/\(slice.spec.pool.name)"
            newest[key] = max(newest[key] ?? .min, slice.spec.pool.generation)
        }
        let current = slices.filter { newest["\($0.spec.driver)/\($0.spec.pool.name)"] == $0.spec.pool.generation }
        for slice in current {
            for set in slice.spec.sharedCounters ?? [] {
                for (name, counter) in set.counters {
                    remaining[
                        CounterKey(driver: slice.spec.driver, pool: slice.spec.pool.name, set: set.name, counter: name)
                    ] = counter.value.value
                }
            }
        }
        for slice in current {
            let node = slice.spec.nodeName ?? ""
            for device in slice.spec.devices ?? [] {
                var consumes: [CounterKey: Double] = [:]
                var sets: Set<CounterKey> = []
                for use in device.consumesCounters ?? [] {
                    sets.insert(
                        CounterKey(
                            driver: slice.spec.driver, pool: slice.spec.pool.name, set: use.counterSet, counter: ""))
                    for (name, counter) in use.counters {
                        consumes[
                            CounterKey(
                                driver: slice.spec.driver, pool: slice.spec.pool.name, set: use.counterSet,
                                counter: name)
                        ] = counter.value.value
                    }
                }
                guard consumes.keys.allSatisfy({ remaining[$0] != nil }) else { continue }
                let candidate = Candidate(
                    id: DeviceID(driver: slice.spec.driver, pool: slice.spec.pool.name, device: device.name),
                    selectable: SelectableDevice(
                        driver: slice.spec.driver, attributes: device.attributes ?? [:],
                        capacity: (device.capacity ?? [:]).mapValues(\.value)),
                    consumes: consumes, sets: sets, size: consumes.values.reduce(0, +))
                devicesByNode[node, default: []].append(candidate)
                byID[candidate.id] = candidate
                for set in sets { devicesBySet[set, default: []].append(candidate) }
            }
        }
        for node in devicesByNode.keys { devicesByNode[node]!.sort { $0.id < $1.id } }
        for id in allocated { take(id) }
    }

    /// Whether a device is free and every counter it consumes has enough left.
    func fits(_ candidate: Candidate) -> Bool {
        !allocated.contains(candidate.id) && candidate.consumes.allSatisfy { remaining[$0.key, default: 0] >= $0.value }
    }

    /// Marks a device allocated and consumes its counters (a device the state does not know is only marked).
    mutating func take(_ id: DeviceID) {
        guard allocated.insert(id).inserted else { return }
        for (key, amount) in candidate(id)?.consumes ?? [:] { remaining[key, default: 0] -= amount }
    }

    /// Frees a device and gives its counters back.
    public mutating func release(_ id: DeviceID) {
        guard allocated.remove(id) != nil else { return }
        for (key, amount) in candidate(id)?.consumes ?? [:] { remaining[key, default: 0] += amount }
    }

    func candidate(_ id: DeviceID) -> Candidate? { byID[id] }

    /// The devices a node can use: its own and those reachable from every node.
    func devices(on node: String) -> [Candidate] {
        (devicesByNode[node] ?? []) + (devicesByNode[""] ?? [])
    }

    /// Counters left in a counter set, by counter name; for tests and explanations.
    public func remaining(driver: String, pool: String, set: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for (key, value) in remaining where key.driver == driver && key.pool == pool && key.set == set {
            out[key.counter] = value
        }
        return out
    }
}
