import StarlingAPI

/// A device by where it is published: driver, pool and name, as an allocation result names it.
public struct DeviceID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let driver: String
    public let pool: String
    public let device: String
    /// FNV-1a of the three names, computed once: ids are hashed in every memo and set lookup of a placement, and
    /// hashing three strings each time would dominate it. Equality still compares the names.
    let fingerprint: UInt64

    public init(driver: String, pool: String, device: String) {
        self.driver = driver
        self.pool = pool
        self.device = device
        var hash = FNV1a()
        // 0xff never occurs in UTF-8: it separates the names.
        for part in [driver, pool, device] {
            hash.combine(part.utf8)
            hash.combine(CollectionOfOne(0xff))
        }
        fingerprint = hash.value
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.fingerprint == b.fingerprint && a.device == b.device && a.pool == b.pool && a.driver == b.driver
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

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

    /// A counter's use: its slot in its node's `remaining`, and the amount.
    struct Use: Sendable {
        var slot: Int
        var amount: Double
    }

    struct Candidate: Sendable {
        var id: DeviceID
        var selectable: SelectableDevice
        /// Counters used while allocated, by slot.
        var consumes: [Use]
        /// The counter sets it draws on, by set slot.
        var sets: [Int]
        /// How much it consumes in all: partitions that consume more are larger.
        var size: Double
        /// Its position in its node's `candidates`.
        var position: Int = 0
    }

    /// One node's devices (or, under `""`, those reachable from every node) and their use. Counters and counter
    /// sets are numbered per node (slots), so that checking whether a device fits reads arrays, not hashes.
    struct NodeDevices: Sendable {
        /// In id order.
        var candidates: [Candidate] = []
        var byID: [DeviceID: Int] = [:]
        /// Set slot → the candidates drawing on it.
        var bySet: [[Int]] = []
        /// Counter slot → what is left of it.
        var remaining: [Double] = []
        /// Counter slot → the counter.
        var counterKeys: [CounterKey] = []
        var counterSlots: [CounterKey: Int] = [:]
        var setSlots: [CounterKey: Int] = [:]
        /// Candidate position → whether it is allocated.
        var taken: [Bool] = []
        /// The candidates' ids folded together: memos of the devices by position hold while it is the same.
        var signature: UInt64 = 0

        /// The allocated devices.
        var allocated: [DeviceID] { candidates.indices.filter { taken[$0] }.map { candidates[$0].id } }

        func fits(_ c: Candidate) -> Bool {
            guard !taken[c.position] else { return false }
            for use in c.consumes where remaining[use.slot] < use.amount { return false }
            return true
        }

        /// Allocates the device at `position` and consumes its counters (once).
        mutating func take(at position: Int) {
            guard !taken[position] else { return }
            taken[position] = true
            for use in candidates[position].consumes { remaining[use.slot] -= use.amount }
        }

        mutating func release(at position: Int) {
            guard taken[position] else { return }
            taken[position] = false
            for use in candidates[position].consumes { remaining[use.slot] += use.amount }
        }

        mutating func counterSlot(_ key: CounterKey, value: Double) {
            if let slot = counterSlots[key] {
                remaining[slot] = value
                return
            }
            counterSlots[key] = remaining.count
            counterKeys.append(key)
            remaining.append(value)
        }

        mutating func setSlot(_ key: CounterKey) -> Int {
            if let slot = setSlots[key] { return slot }
            setSlots[key] = bySet.count
            bySet.append([])
            return bySet.count - 1
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
                for (name, counter) in set.counters.sorted(by: { $0.key < $1.key }) {
                    nodes[node, default: NodeDevices()].counterSlot(
                        CounterKey(driver: slice.spec.driver, pool: slice.spec.pool.name, set: set.name, counter: name),
                        value: counter.value.value)
                }
            }
        }
        var byNode: [String: [Candidate]] = [:]
        for slice in current {
            let node = slice.spec.nodeName ?? ""
            var devices = nodes[node] ?? NodeDevices()
            for device in slice.spec.devices ?? [] {
                var consumes: [Use] = []
                var sets: [Int] = []
                var known = true
                for use in device.consumesCounters ?? [] {
                    sets.append(
                        devices.setSlot(
                            CounterKey(
                                driver: slice.spec.driver, pool: slice.spec.pool.name, set: use.counterSet,
                                counter: "")))
                    for (name, counter) in use.counters.sorted(by: { $0.key < $1.key }) {
                        let key = CounterKey(
                            driver: slice.spec.driver, pool: slice.spec.pool.name, set: use.counterSet, counter: name)
                        guard let slot = devices.counterSlots[key] else {
                            known = false
                            continue
                        }
                        consumes.append(Use(slot: slot, amount: counter.value.value))
                    }
                }
                guard known else { continue }
                byNode[node, default: []].append(
                    Candidate(
                        id: DeviceID(driver: slice.spec.driver, pool: slice.spec.pool.name, device: device.name),
                        selectable: SelectableDevice(
                            driver: slice.spec.driver, attributes: device.attributes ?? [:],
                            capacity: (device.capacity ?? [:]).mapValues(\.value)),
                        consumes: consumes, sets: sets, size: consumes.reduce(0) { $0 + $1.amount }))
            }
            nodes[node] = devices
        }
        for (node, list) in byNode {
            var devices = nodes[node] ?? NodeDevices()
            devices.candidates = list.sorted { $0.id < $1.id }
            devices.taken = Array(repeating: false, count: list.count)
            var signature = FNV1a()
            for i in devices.candidates.indices {
                devices.candidates[i].position = i
                let c = devices.candidates[i]
                devices.byID[c.id] = i
                withUnsafeBytes(of: c.id.fingerprint) { signature.combine($0) }
                for set in c.sets { devices.bySet[set].append(i) }
            }
            devices.signature = signature.value
            nodes[node] = devices
        }
        for id in allocated { take(id) }
    }

    static func poolKey(_ driver: String, _ pool: String) -> String { "\(driver)/\(pool)" }

    /// The node a device is on (`""` for devices reachable from every node); nil for an unknown device.
    func node(of id: DeviceID) -> String? { poolNodes[Self.poolKey(id.driver, id.pool)] }

    /// Marks a device allocated and consumes its counters (an unknown device is ignored).
    public mutating func take(_ id: DeviceID) {
        guard let node = node(of: id), let position = nodes[node]?.byID[id] else { return }
        nodes[node]?.take(at: position)
    }

    /// Frees a device and gives its counters back.
    public mutating func release(_ id: DeviceID) {
        guard let node = node(of: id), let position = nodes[node]?.byID[id] else { return }
        nodes[node]?.release(at: position)
    }

    /// Every allocated device.
    public var allocated: Set<DeviceID> { Set(nodes.values.flatMap(\.allocated)) }

    /// The names of nodes with published devices.
    public var nodeNames: [String] { nodes.keys.filter { !$0.isEmpty }.sorted() }

    /// Counters left in a counter set, by counter name; for tests and explanations.
    public func remaining(driver: String, pool: String, set: String) -> [String: Double] {
        guard let node = poolNodes[Self.poolKey(driver, pool)], let devices = nodes[node] else { return [:] }
        var out: [String: Double] = [:]
        for (slot, key) in devices.counterKeys.enumerated()
        where key.pool == pool && key.set == set && key.driver == driver {
            out[key.counter] = devices.remaining[slot]
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
