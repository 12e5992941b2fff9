import Foundation

/// A node's accelerators as DRA devices: each GPU as a device, and on GPUs in MIG mode every placement of every
/// profile as a device too. A GPU's counter set has one counter per memory slice and per compute slice; a
/// partition consumes the slices it occupies and the whole GPU consumes all of them, so allocating one device
/// makes every overlapping one unavailable (KEP-4815's partitionable devices).
public struct GPUInventory: Sendable, Equatable {
    public var node: String
    /// `H100-80GB`.
    public var acceleratorType: String
    public var gpus: [GPU]

    public struct GPU: Sendable, Equatable {
        public var index: Int
        /// `GPU-…` on real hardware; a stable made-up one for simulated GPUs.
        public var uuid: String
        public var migEnabled: Bool
        /// The MIG devices that exist on a real GPU in MIG mode, as `nvidia-smi -L` lists them: only they are
        /// published (Starling does not create or destroy MIG instances), and the GPU is not published whole,
        /// since CUDA sees only its MIG devices. Nil on a simulated GPU, which publishes every placement.
        public var migInstances: [MIGInstance]?

        public init(index: Int, uuid: String, migEnabled: Bool = false, migInstances: [MIGInstance]? = nil) {
            self.index = index
            self.uuid = uuid
            self.migEnabled = migEnabled
            self.migInstances = migInstances
        }
    }

    /// A MIG device that exists on a real GPU.
    public struct MIGInstance: Sendable, Equatable {
        /// `3g.40gb`.
        public var profile: String
        /// Its number on its GPU (`Device 0` in `nvidia-smi -L`).
        public var ordinal: Int
        /// `MIG-…`: what `CUDA_VISIBLE_DEVICES` names it by.
        public var uuid: String

        public init(profile: String, ordinal: Int, uuid: String) {
            self.profile = profile
            self.ordinal = ordinal
            self.uuid = uuid
        }

        /// `gpu/profile/ordinal/uuid`, as `starling.dev/mig-instances` lists it.
        public func annotationEntry(gpu: Int) -> String { "\(gpu)/\(profile)/\(ordinal)/\(uuid)" }
    }

    /// Starling's DRA driver name: the domain of the attributes it publishes.
    public static let driver = "gpu.starling.dev"
    /// Classes of whole GPUs and of MIG partitions.
    public static let gpuClass = "gpu.starling.dev"
    public static let migClass = "mig.starling.dev"

    public init(node: String, acceleratorType: String, gpus: [GPU]) {
        self.node = node
        self.acceleratorType = acceleratorType
        self.gpus = gpus
    }

    /// A simulated node: `count` GPUs, those in `mig` in MIG mode, with UUIDs made from the node's name.
    public static func simulated(node: String, acceleratorType: String, count: Int, mig: Set<Int> = []) -> Self {
        Self(
            node: node, acceleratorType: acceleratorType,
            gpus: (0..<count).map { GPU(index: $0, uuid: "GPU-sim-\(node)-\($0)", migEnabled: mig.contains($0)) })
    }

    /// A node's GPUs as its labels, capacity and annotations declare them; nil for a node without accelerators.
    public init?(node: Node) {
        guard let type = node.acceleratorType, node.acceleratorCount > 0 else { return nil }
        let name = node.metadata.nameOrEmpty
        let annotations = node.metadata.annotations ?? [:]
        let mig = Set(
            (annotations[WellKnown.migDevicesAnnotation] ?? "").split(separator: ",").compactMap {
                Int($0.trimmingCharacters(in: .whitespaces))
            })
        let uuids = (annotations[WellKnown.gpuUUIDsAnnotation] ?? "").split(separator: ",").map(String.init)
        // Real MIG devices, where the node lists them; every GPU in MIG mode then has exactly those listed.
        let listed = annotations[WellKnown.migInstancesAnnotation].map(Self.migInstances(annotation:))
        self.init(
            node: name, acceleratorType: type,
            gpus: (0..<node.acceleratorCount).map { i in
                GPU(
                    index: i, uuid: i < uuids.count ? uuids[i] : "GPU-sim-\(name)-\(i)", migEnabled: mig.contains(i),
                    migInstances: listed.map { $0[i] ?? [] })
            })
    }

    /// `starling.dev/mig-instances` read back: MIG devices by GPU index; entries that do not parse are skipped.
    public static func migInstances(annotation: String) -> [Int: [MIGInstance]] {
        var byGPU: [Int: [MIGInstance]] = [:]
        for entry in annotation.split(separator: ",") {
            let fields = entry.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 3).map(String.init)
            guard fields.count == 4, let gpu = Int(fields[0]), let ordinal = Int(fields[2]) else { continue }
            byGPU[gpu, default: []].append(MIGInstance(profile: fields[1], ordinal: ordinal, uuid: fields[3]))
        }
        return byGPU
    }

    /// The device name of GPU `index` (`gpu-3`) and of a partition on it (`gpu-3-mig-3g-40gb-4`).
    public static func deviceName(gpu index: Int) -> String { "gpu-\(index)" }
    public static func deviceName(gpu index: Int, profile: MIGProfile, start: Int) -> String {
        "gpu-\(index)-mig-\(profile.name.replacingOccurrences(of: ".", with: "-"))-\(start)"
    }

    static func counterSetName(gpu index: Int) -> String { "gpu-\(index)" }
    static func memoryCounter(_ slice: Int) -> String { "memory-slice-\(slice)" }
    static func computeCounter(_ slice: Int) -> String { "compute-slice-\(slice)" }

    /// The pool's slices: counter sets (at most 8 to a slice), then one slice of devices per GPU, all at
    /// `generation`, named after the node.
    public func resourceSlices(generation: Int = 0) -> [ResourceSlice] {
        let profiles = MIGProfile.profiles(for: acceleratorType)
        let counterChunks = stride(from: 0, to: gpus.count, by: ResourceSlice.maxCounterSets).map {
            Array(gpus[$0..<min($0 + ResourceSlice.maxCounterSets, gpus.count)])
        }
        let partitioned = !profiles.isEmpty
        let count = gpus.count + (partitioned ? counterChunks.count : 0)
        let pool = ResourcePool(name: node, generation: generation, resourceSliceCount: max(count, 1))
        var slices: [ResourceSlice] = []
        if partitioned {
            for (i, chunk) in counterChunks.enumerated() {
                let sets = chunk.map { gpu in
                    CounterSet(name: Self.counterSetName(gpu: gpu.index), counters: Self.wholeGPUCounters)
                }
                slices.append(
                    ResourceSlice(
                        metadata: ObjectMeta(name: "\(node)-\(Self.driver)-counters-\(i)"),
                        spec: ResourceSliceSpec(
                            driver: Self.driver, pool: pool, nodeName: node, sharedCounters: sets)))
            }
        }
        for gpu in gpus {
            let devices = self.devices(of: gpu)
            slices.append(
                ResourceSlice(
                    metadata: ObjectMeta(name: "\(node)-\(Self.driver)-\(Self.deviceName(gpu: gpu.index))"),
                    spec: ResourceSliceSpec(driver: Self.driver, pool: pool, nodeName: node, devices: devices)))
        }
        return slices
    }

    /// A GPU's devices: itself and, in MIG mode, every placement of every profile; on a real GPU in MIG mode, the
    /// MIG devices that exist.
    public func devices(of gpu: GPU) -> [Device] {
        let profiles = MIGProfile.profiles(for: acceleratorType)
        if gpu.migEnabled, let instances = gpu.migInstances {
            return instances.compactMap { instance in
                MIGProfile.named(instance.profile, for: acceleratorType).map { existingPartition(gpu, $0, instance) }
            }
        }
        var devices = [wholeDevice(gpu, partitioned: !profiles.isEmpty)]
        if gpu.migEnabled {
            for profile in profiles {
                for start in profile.starts { devices.append(partition(gpu, profile, start)) }
            }
        }
        return devices
    }

    /// One counter per memory slice and per compute slice in the ranges given, each of 1.
    static func sliceCounters(memory: Range<Int>, compute: Range<Int>) -> [String: Counter] {
        var counters: [String: Counter] = [:]
        for s in memory { counters[memoryCounter(s)] = Counter(Quantity(1)) }
        for s in compute { counters[computeCounter(s)] = Counter(Quantity(1)) }
        return counters
    }

    /// A whole GPU's counters: every slice.
    static let wholeGPUCounters = sliceCounters(
        memory: 0..<MIGProfile.totalMemorySlices, compute: 0..<MIGProfile.totalComputeSlices)

    func wholeDevice(_ gpu: GPU, partitioned: Bool) -> Device {
        let counters = Self.wholeGPUCounters
        return Device(
            name: Self.deviceName(gpu: gpu.index),
            attributes: [
                "type": .string("gpu"), "productName": .string(acceleratorType), "index": .int(gpu.index),
                "uuid": .string(gpu.uuid), "migEnabled": .bool(gpu.migEnabled),
            ],
            capacity: ["memory": DeviceCapacity(Quantity("\(Self.memoryGiB(acceleratorType))Gi")!)],
            consumesCounters: partitioned
                ? [DeviceCounterConsumption(counterSet: Self.counterSetName(gpu: gpu.index), counters: counters)] : nil)
    }

    /// A placement of `profile` at `start`: it consumes the slices it occupies.
    func partition(_ gpu: GPU, _ profile: MIGProfile, _ start: Int) -> Device {
        var device = migDevice(
            gpu, profile, name: Self.deviceName(gpu: gpu.index, profile: profile, start: start),
            uuid: "MIG-\(gpu.uuid)-\(profile.name)-\(start)")
        device.attributes?["placementStart"] = .int(start)
        let counters = Self.sliceCounters(
            memory: start..<(start + profile.memorySlices),
            compute: start..<min(start + profile.computeSlices, MIGProfile.totalComputeSlices))
        device.consumesCounters = [
            DeviceCounterConsumption(counterSet: Self.counterSetName(gpu: gpu.index), counters: counters)
        ]
        return device
    }

    /// A MIG device that exists: fixed, so it shares no counters (nothing else on its GPU is published).
    func existingPartition(_ gpu: GPU, _ profile: MIGProfile, _ instance: MIGInstance) -> Device {
        let slug = profile.name.replacingOccurrences(of: ".", with: "-")
        return migDevice(
            gpu, profile, name: "gpu-\(gpu.index)-mig-\(slug)-device-\(instance.ordinal)", uuid: instance.uuid)
    }

    /// What every MIG device of `profile` on `gpu` says of itself.
    func migDevice(_ gpu: GPU, _ profile: MIGProfile, name: String, uuid: String) -> Device {
        Device(
            name: name,
            attributes: [
                "type": .string("mig"), "productName": .string(acceleratorType), "profile": .string(profile.name),
                "parentIndex": .int(gpu.index), "parentUUID": .string(gpu.uuid), "uuid": .string(uuid),
            ],
            capacity: [
                "memory": DeviceCapacity(Quantity("\(profile.memoryGiB)Gi")!),
                "computeSlices": DeviceCapacity(Quantity(Double(profile.computeSlices))),
            ])
    }

    /// A GPU's memory in GiB, from its type's name (`H100-80GB` → 80); 0 when the name does not say.
    static func memoryGiB(_ type: String) -> Int {
        guard let suffix = type.split(separator: "-").last, suffix.hasSuffix("GB"), let n = Int(suffix.dropLast(2))
        else { return 0 }
        return n
    }

    /// The DeviceClasses Starling's devices are asked for by: whole GPUs, and MIG partitions.
    public static func deviceClasses() -> [DeviceClass] {
        [
            DeviceClass(
                metadata: ObjectMeta(name: gpuClass),
                spec: DeviceClassSpec(selectors: [
                    DeviceSelector(#"device.driver == "\#(driver)" && device.attributes["\#(driver)"].type == "gpu""#)
                ])),
            DeviceClass(
                metadata: ObjectMeta(name: migClass),
                spec: DeviceClassSpec(selectors: [
                    DeviceSelector(#"device.driver == "\#(driver)" && device.attributes["\#(driver)"].type == "mig""#)
                ])),
        ]
    }
}
