/// DRA's `ResourceSlice` (`resource.k8s.io/v1`): devices a driver publishes for a node (or for every node), with
/// attributes, capacities and the shared counters they consume. A pool may span several slices; counter sets sit
/// in a slice of their own, and devices of the pool's other slices consume them.
public struct ResourceSlice: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: WellKnown.resourceGroup, version: "v1", kind: "ResourceSlice", plural: "resourceslices",
        singular: "resourceslice", namespaced: false)

    /// Kubernetes' bounds on one slice.
    public static let maxDevices = 128
    public static let maxAttributesAndCapacities = 32
    public static let maxCounterSets = 8
    public static let maxCountersPerSet = 32

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ResourceSliceSpec

    public init(metadata: ObjectMeta, spec: ResourceSliceSpec) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func validate() -> [FieldError] { spec.validate(path: "spec") }
}

/// `spec` of a ResourceSlice.
public struct ResourceSliceSpec: Codable, Sendable, Equatable {
    /// The driver that publishes the devices (a DNS subdomain, `gpu.nvidia.com`); the domain of short attribute names.
    public var driver: String
    public var pool: ResourcePool
    /// The node whose devices these are; unset with `allNodes`.
    public var nodeName: String?
    /// The devices are reachable from every node.
    public var allNodes: Bool?
    public var devices: [Device]?
    /// Counter sets devices of the pool consume, published in a slice with no devices.
    public var sharedCounters: [CounterSet]?

    public init(
        driver: String, pool: ResourcePool, nodeName: String? = nil, devices: [Device] = [],
        sharedCounters: [CounterSet]? = nil
    ) {
        self.driver = driver
        self.pool = pool
        self.nodeName = nodeName
        self.devices = devices.isEmpty && sharedCounters != nil ? nil : devices
        self.sharedCounters = sharedCounters
    }

    func validate(path: String) -> [FieldError] {
        var errors = Validation.dnsSubdomainErrors(driver, path: "\(path).driver")
        errors += pool.validate(path: "\(path).pool")
        switch (nodeName, allNodes ?? false) {
        case (nil, false):
            errors.append(FieldError(path, "Required value: exactly one of `nodeName` or `allNodes`"))
        case (.some, true):
            errors.append(FieldError(path, "Invalid value: exactly one of `nodeName` or `allNodes`, not both"))
        case (let node?, false):
            errors += Validation.dnsSubdomainErrors(node, path: "\(path).nodeName")
        default: break
        }
        let devices = devices ?? []
        let counterSets = sharedCounters ?? []
        if !devices.isEmpty && !counterSets.isEmpty {
            errors.append(
                FieldError(
                    "\(path).sharedCounters",
                    "Invalid value: a slice with `sharedCounters` has no devices; publish them in another slice "
                        + "of the pool"))
        }
        if devices.count > ResourceSlice.maxDevices {
            errors.append(
                FieldError(
                    "\(path).devices",
                    "Too many: \(devices.count): must have at most \(ResourceSlice.maxDevices) items"))
        }
        var names: Set<String> = []
        for (i, device) in devices.enumerated() {
            let devicePath = "\(path).devices[\(i)]"
            if !names.insert(device.name).inserted {
                errors.append(FieldError("\(devicePath).name", "Duplicate value: \"\(device.name)\""))
            }
            errors += device.validate(path: devicePath)
        }
        if counterSets.count > ResourceSlice.maxCounterSets {
            errors.append(
                FieldError(
                    "\(path).sharedCounters",
                    "Too many: \(counterSets.count): must have at most \(ResourceSlice.maxCounterSets) items"))
        }
        var setNames: Set<String> = []
        for (i, set) in counterSets.enumerated() {
            let setPath = "\(path).sharedCounters[\(i)]"
            if !setNames.insert(set.name).inserted {
                errors.append(FieldError("\(setPath).name", "Duplicate value: \"\(set.name)\""))
            }
            errors += Validation.dnsLabelErrors(set.name, path: "\(setPath).name")
            errors += Counter.validate(set.counters, path: "\(setPath).counters")
        }
        return errors
    }
}

/// The pool a slice belongs to. Slices of the pool at an older `generation` are stale and not used.
public struct ResourcePool: Codable, Sendable, Equatable {
    public var name: String
    public var generation: Int
    /// How many slices the pool has at this generation.
    public var resourceSliceCount: Int

    public init(name: String, generation: Int = 0, resourceSliceCount: Int = 1) {
        self.name = name
        self.generation = generation
        self.resourceSliceCount = resourceSliceCount
    }

    func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if name.isEmpty {
            errors.append(.required("\(path).name"))
        } else {
            for (i, segment) in name.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
                errors += Validation.dnsSubdomainErrors(String(segment), path: "\(path).name").map {
                    FieldError($0.path, "segment \(i): \($0.message)")
                }
            }
        }
        if generation < 0 {
            errors.append(FieldError("\(path).generation", "Invalid value: \(generation): must be >= 0"))
        }
        if resourceSliceCount < 1 {
            errors.append(
                FieldError("\(path).resourceSliceCount", "Invalid value: \(resourceSliceCount): must be >= 1"))
        }
        return errors
    }
}

/// One device of a slice.
public struct Device: Codable, Sendable, Equatable {
    /// Unique in the pool; a DNS label.
    public var name: String
    /// Attributes by qualified name (`domain/name`, or `name` in the driver's domain).
    public var attributes: [String: DeviceAttribute]?
    public var capacity: [String: DeviceCapacity]?
    /// The shared counters the device uses while allocated: a device fits only while every counter it consumes
    /// has that much left.
    public var consumesCounters: [DeviceCounterConsumption]?

    public init(
        name: String, attributes: [String: DeviceAttribute] = [:], capacity: [String: DeviceCapacity] = [:],
        consumesCounters: [DeviceCounterConsumption]? = nil
    ) {
        self.name = name
        self.attributes = attributes.isEmpty ? nil : attributes
        self.capacity = capacity.isEmpty ? nil : capacity
        self.consumesCounters = consumesCounters
    }

    func validate(path: String) -> [FieldError] {
        var errors = Validation.dnsLabelErrors(name, path: "\(path).name")
        let total = (attributes?.count ?? 0) + (capacity?.count ?? 0)
        if total > ResourceSlice.maxAttributesAndCapacities {
            errors.append(
                FieldError(
                    path,
                    "Too many: \(total) attributes and capacities: must have at most "
                        + "\(ResourceSlice.maxAttributesAndCapacities)"))
        }
        for name in (attributes ?? [:]).keys.sorted() {
            errors += Self.qualifiedNameErrors(name, path: "\(path).attributes[\(name)]")
            if let attribute = attributes?[name], attribute.valueCount != 1 {
                errors.append(
                    FieldError(
                        "\(path).attributes[\(name)]",
                        "Invalid value: exactly one of int, bool, string, version (got \(attribute.valueCount))"))
            }
            if let text = attributes?[name]?.version, SemanticVersion(text) == nil {
                errors.append(
                    FieldError(
                        "\(path).attributes[\(name)].version",
                        "Invalid value: \"\(text)\": must be a semantic version (MAJOR.MINOR.PATCH)"))
            }
        }
        for name in (capacity ?? [:]).keys.sorted() {
            errors += Self.qualifiedNameErrors(name, path: "\(path).capacity[\(name)]")
        }
        for (i, consumption) in (consumesCounters ?? []).enumerated() {
            let consumptionPath = "\(path).consumesCounters[\(i)]"
            errors += Validation.dnsLabelErrors(consumption.counterSet, path: "\(consumptionPath).counterSet")
            errors += Counter.validate(consumption.counters, path: "\(consumptionPath).counters")
        }
        return errors
    }

    /// `domain/name` or `name`, where the name is a C identifier of at most 32 characters.
    static func qualifiedNameErrors(_ qualified: String, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        var name = Substring(qualified)
        if let slash = qualified.lastIndex(of: "/") {
            errors += Validation.dnsSubdomainErrors(String(qualified[..<slash]), path: path)
            name = qualified[qualified.index(after: slash)...]
        }
        let identifier =
            !name.isEmpty && name.count <= 32 && name.first.map { $0.isLetter || $0 == "_" } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        if !identifier {
            errors.append(
                FieldError(
                    path,
                    "Invalid value: \"\(qualified)\": a name is a C identifier of at most 32 characters "
                        + "(letters, digits, '_'), optionally after a domain and '/'"))
        }
        return errors
    }
}

/// A device's capacity of one kind (`memory: {value: 80Gi}`).
public struct DeviceCapacity: Codable, Sendable, Equatable {
    public var value: Quantity

    public init(_ value: Quantity) { self.value = value }
}

/// Named counters a pool's devices share (`memory-slice-0: {value: 1}`, `multiprocessors: {value: 132}`).
public struct CounterSet: Codable, Sendable, Equatable {
    public var name: String
    public var counters: [String: Counter]

    public init(name: String, counters: [String: Counter]) {
        self.name = name
        self.counters = counters
    }
}

/// How much of a counter set's counters a device uses.
public struct DeviceCounterConsumption: Codable, Sendable, Equatable {
    public var counterSet: String
    public var counters: [String: Counter]

    public init(counterSet: String, counters: [String: Counter]) {
        self.counterSet = counterSet
        self.counters = counters
    }
}

public struct Counter: Codable, Sendable, Equatable {
    public var value: Quantity

    public init(_ value: Quantity) { self.value = value }

    static func validate(_ counters: [String: Counter], path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if counters.isEmpty { errors.append(FieldError(path, "Required value: at least one counter")) }
        if counters.count > ResourceSlice.maxCountersPerSet {
            errors.append(
                FieldError(
                    path, "Too many: \(counters.count): must have at most \(ResourceSlice.maxCountersPerSet) items"))
        }
        for name in counters.keys.sorted() {
            errors += Validation.dnsLabelErrors(name, path: "\(path)[\(name)]")
            if let value = counters[name]?.value, value.value < 0 {
                errors.append(FieldError("\(path)[\(name)].value", "Invalid value: \"\(value)\": must be >= 0"))
            }
        }
        return errors
    }
}
