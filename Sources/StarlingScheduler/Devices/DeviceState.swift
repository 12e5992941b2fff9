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

/// Every published device and what is in use: allocated devices and the shared counters they consume, kept per
/// node so that trying a placement copies one node's devices, not the cluster's. A value: the scheduler tries a
/// gang on a copy and keeps it only when the whole gang fits.
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
        /// The counter sets it draws on (keys with an empty counter name).
        var sets: [CounterKey]
        /// How much it consumes in all: partitions that consume more are larger.
        var size: Double
    }

    /// One node's devices (or, under `""`, those reachable from every node) and their use.
    struct NodeDevices: Sendable {
        /// In id order.
        var candidates: [Candidate] = []
        var byID: [DeviceID: Int] = [:]
        var bySet: [CounterKey: [Int]] = [:]
        var remaining: [CounterKey: Double] = [:]
        var allocated: Set<DeviceID> = []

        func fits(_ c: Candidate) -> Bool {
            !allocated.contains(c.id) && c.consumes.allSatisfy { remaining[$0.key, default: 0] >= $0.value }
        }

        mutating func take(_ id: DeviceID) {
            guard let i = byID[id], allocated.insert(id).inserted else { return }
            for (key, amount) in candidates[i].consumes { remaining[key, default: 0] -= amount }
        }

        mutating func release(_ id: DeviceID) {
            guard let i = byID[id], allocated.remove(id) != nil else { return }
            for (key, amount) in candidates[i].consumes { remaining[key, default: 0] += amount }
        }
    }

    var nodes: [String: NodeDevices] = [:]
    /// The node (or `""`) each pool's devices are on.
    var poolNodes: [String: String] = [:]

    /// Builds the state from the newest generation of each pool's slices, with `allocated` (from claims'
    /// allocations) in use. Devices consuming a counter set their pool does not publish are left out.
    public init(slices: [ResourceSlice], allocated: some Sequence<DeviceID> = [DeviceID]()) {
        var newest: [String: Int] = [:]
        for slice in slices {
            let key = Self.poolKey(slice.spec.driver, slice.spec.pool.name)
            newest[key] = max(newest[key] ?? .min, slice.spec.pool.generation)
        }
        let current = slices.filter {
            newest[Self.poolKey($0.spec.driver, $0.spec.pool.name)] == $0.spec.pool.generation
        }
        for slice in current {
            let node = slice.spec.nodeName ?? ""
            poolNodes[Self.poolKey(slice.spec.driver, slice.spec.pool.name)] = node
            for set in slice.spec.sharedCounters ?? [] {
                for (name, counter) in set.counters {
                    nodes[node, default: NodeDevices()].remaining[
                        CounterKey(driver: slice.spec.driver, pool: slice.spec.pool.name, set: set.name, counter: name)
                    ] = counter.value.value
                }
            }
        }
        var byNode: [String: [Candidate]] = [:]
        for slice in current {
            let node = slice.spec.nodeName ?? ""
            for device in slice.spec.devices ?? [] {
                var consumes: [CounterKey: Double] = [:]
                var sets: [CounterKey] = []
                for use in device.consumesCounters ?? [] {
                    sets.append(
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
                guard consumes.keys.allSatisfy({ nodes[node]?.remaining[$0] != nil }) else { continue }
                byNode[node, default: []].append(
                    Candidate(
                        id: DeviceID(driver: slice.spec.driver, pool: slice.spec.pool.name, device: device.name),
                        selectable: SelectableDevice(
                            driver: slice.spec.driver, attributes: device.attributes ?? [:],
                            capacity: (device.capacity ?? [:]).mapValues(\.value)),
                        consumes: consumes, sets: sets, size: consumes.values.reduce(0, +)))
            }
        }
        for (node, list) in byNode {
            var devices = nodes[node] ?? NodeDevices()
            devices.candidates = list.sorted { $0.id < $1.id }
            for (i, c) in devices.candidates.enumerated() {
                devices.byID[c.id] = i
                for set in c.sets { devices.bySet[set, default: []].append(i) }
            }
            nodes[node] = devices
        }
        for id in allocated { take(id) }
    }

    static func poolKey(_ driver: String, _ pool: String) -> String { "\(driver)/\(pool)" }

    /// The node a device is on (`""` for devices reachable from every node); nil for an unknown device.
    func node(of id: DeviceID) -> String? { poolNodes[Self.poolKey(id.driver, id.pool)] }

    /// Marks a device allocated and consumes its counters (an unknown device is ignored).
    public mutating func take(_ id: DeviceID) {
        guard let node = node(of: id) else { return }
        nodes[node]?.take(id)
    }

    /// Frees a device and gives its counters back.
    public mutating func release(_ id: DeviceID) {
        guard let node = node(of: id) else { return }
        nodes[node]?.release(id)
    }

    /// Every allocated device.
    public var allocated: Set<DeviceID> { nodes.values.reduce(into: []) { $0.formUnion($1.allocated) } }

    /// The names of nodes with published devices.
    public var nodeNames: [String] { nodes.keys.filter { !$0.isEmpty }.sorted() }

    /// Counters left in a counter set, by counter name; for tests and explanations.
    public func remaining(driver: String, pool: String, set: String) -> [String: Double] {
        guard let node = poolNodes[Self.poolKey(driver, pool)] else { return [:] }
        var out: [String: Double] = [:]
        for (key, value) in nodes[node]?.remaining ?? [:]
        where key.pool == pool && key.set == set && key.driver == driver {
            out[key.counter] = value
        }
        return out
    }
}

extension DeviceState {
    /// Devices of a node that could be allocated now (free, with room in their counters).
    public func freeDevices(on node: String) -> Int {
        guard let devices = nodes[node] else { return 0 }
        return devices.candidates.reduce(0) { $0 + (devices.fits($1) ? 1 : 0) }
    }
}
