import StarlingAPI
import Testing

@testable import StarlingScheduler

/// Claims allocated from published devices: shared counters keep overlapping partitions apart, `firstAvailable`
/// falls through in order, selectors narrow, partitions pack, and a failed claim changes nothing.
@Suite struct DeviceAllocatorTests {
    static let driver = GPUInventory.driver

    /// A node's slices: `gpus` H100s, those in `mig` in MIG mode.
    static func node(
        _ name: String = "node-1", type: String = "H100-80GB", gpus: Int = 1, mig: Set<Int> = [0]
    )
        -> [ResourceSlice]
    {
        GPUInventory.simulated(node: name, acceleratorType: type, count: gpus, mig: mig).resourceSlices()
    }

    static func claim(_ requests: DeviceRequest...) -> ResourceClaimSpec { ResourceClaimSpec(requests: requests) }

    static func partition(_ profile: String, count: Int = 1, name: String = "slice") -> DeviceRequest {
        DeviceRequest(
            name: name,
            exactly: ExactDeviceRequest(
                deviceClassName: GPUInventory.migClass,
                selectors: [DeviceSelector(#"device.attributes["\#(driver)"].profile == "\#(profile)""#)],
                count: count))
    }

    static func gpus(_ count: Int, name: String = "gpus", selector: String? = nil) -> DeviceRequest {
        DeviceRequest(
            name: name,
            exactly: ExactDeviceRequest(
                deviceClassName: GPUInventory.gpuClass, selectors: selector.map { [DeviceSelector($0)] },
                count: count))
    }

    static func allocator() -> DeviceAllocator { DeviceAllocator(classes: GPUInventory.deviceClasses()) }

    @Test func inventoryPublishesWholeGPUsAndEveryPlacementOfEveryProfile() {
        let slices = Self.node(gpus: 2, mig: [0])
        #expect(slices.allSatisfy { $0.validate().isEmpty }, "\(slices.flatMap { $0.validate() })")
        #expect(slices.map { $0.metadata.nameOrEmpty }.count == Set(slices.map { $0.metadata.nameOrEmpty }).count)
        #expect(slices.allSatisfy { $0.spec.pool.resourceSliceCount == slices.count })
        let devices = slices.flatMap { $0.spec.devices ?? [] }
        // GPU 0: itself and 7 + 4 + 3 + 2 + 1 + 1 partitions; GPU 1 (no MIG): itself.
        #expect(devices.count == 1 + 18 + 1)
        #expect(slices.filter { $0.spec.sharedCounters != nil }.count == 1)
        let third = devices.first { $0.name == "gpu-0-mig-3g-40gb-4" }
        #expect(third?.attributes?["profile"] == .string("3g.40gb"))
        #expect(
            Set(third?.consumesCounters?.first?.counters.keys ?? [:].keys)
                == [
                    "memory-slice-4", "memory-slice-5", "memory-slice-6", "memory-slice-7", "compute-slice-4",
                    "compute-slice-5", "compute-slice-6",
                ])
    }

    @Test func overlappingPartitionsAreNeverAllocatedTwice() throws {
        var state = DeviceState(slices: Self.node())
        var allocator = Self.allocator()
        let first = try allocator.allocate(Self.claim(Self.partition("3g.40gb")), on: "node-1", state: &state).get()
        let second = try allocator.allocate(Self.claim(Self.partition("3g.40gb")), on: "node-1", state: &state).get()
        #expect(Set((first + second).map(\.device)) == ["gpu-0-mig-3g-40gb-0", "gpu-0-mig-3g-40gb-4"])
        for profile in ["3g.40gb", "4g.40gb", "1g.10gb", "7g.80gb"] {
            let result = allocator.allocate(Self.claim(Self.partition(profile)), on: "node-1", state: &state)
            #expect(throws: DeviceAllocator.Failure.self, "\(profile)") { try result.get() }
        }
        #expect(state.remaining(driver: Self.driver, pool: "node-1", set: "gpu-0").values.allSatisfy { $0 >= 0 })
    }

    @Test func aWholeGPUExcludesItsPartitionsAndTheReverse() throws {
        var allocator = Self.allocator()
        var state = DeviceState(slices: Self.node())
        _ = try allocator.allocate(Self.claim(Self.gpus(1)), on: "node-1", state: &state).get()
        #expect(throws: DeviceAllocator.Failure.self) {
            try allocator.allocate(Self.claim(Self.partition("1g.10gb")), on: "node-1", state: &state).get()
        }
        var other = DeviceState(slices: Self.node())
        _ = try allocator.allocate(Self.claim(Self.partition("1g.10gb")), on: "node-1", state: &other).get()
        let refused = allocator.allocate(Self.claim(Self.gpus(1)), on: "node-1", state: &other)
        #expect(throws: DeviceAllocator.Failure.self) { try refused.get() }
        // Freeing the partition gives its counters back: the whole GPU fits again.
        for id in other.allocated { other.release(id) }
        #expect(try allocator.allocate(Self.claim(Self.gpus(1)), on: "node-1", state: &other).get().count == 1)
    }

    @Test func aSmallPartitionGoesWhereItBreaksTheLeast() throws {
        var allocator = Self.allocator()
        var state = DeviceState(slices: Self.node(gpus: 2, mig: [0, 1]))
        let first = try allocator.allocate(Self.claim(Self.partition("1g.10gb")), on: "node-1", state: &state).get()
        // At the end of a GPU it leaves the 4g.40gb at 0 (at start 0 only a 3g.40gb would remain).
        #expect(first.map(\.device) == ["gpu-0-mig-1g-10gb-6"])
        // The next one joins it rather than breaking the other GPU's 7g.80gb.
        let second = try allocator.allocate(Self.claim(Self.partition("1g.10gb")), on: "node-1", state: &state).get()
        #expect(second.first?.device.hasPrefix("gpu-0-") == true, "\(second)")
        #expect(
            try allocator.allocate(Self.claim(Self.partition("7g.80gb")), on: "node-1", state: &state).get().map(
                \.device)
                == ["gpu-1-mig-7g-80gb-0"])
    }

    @Test func firstAvailableFallsThroughInOrder() throws {
        var allocator = Self.allocator()
        let request = DeviceRequest(
            name: "gpus",
            firstAvailable: [
                DeviceSubRequest(
                    name: "h100", deviceClassName: GPUInventory.gpuClass,
                    selectors: [DeviceSelector(#"device.attributes["\#(Self.driver)"].productName == "H100-80GB""#)],
                    count: 2),
                DeviceSubRequest(
                    name: "a100", deviceClassName: GPUInventory.gpuClass,
                    selectors: [DeviceSelector(#"device.attributes["\#(Self.driver)"].productName == "A100-80GB""#)],
                    count: 4),
            ])
        var slices = Self.node("h", gpus: 1, mig: []) + Self.node("a", type: "A100-80GB", gpus: 4, mig: [])
        var state = DeviceState(slices: slices)
        // One H100 is not two: the A100 node's four answer as the second alternative.
        #expect(throws: DeviceAllocator.Failure.self) {
            try allocator.allocate(Self.claim(request), on: "h", state: &state).get()
        }
        let onA = try allocator.allocate(Self.claim(request), on: "a", state: &state).get()
        #expect(onA.count == 4 && onA.allSatisfy { $0.request == "gpus/a100" })
        slices = Self.node("h", gpus: 2, mig: [])
        state = DeviceState(slices: slices)
        let onH = try allocator.allocate(Self.claim(request), on: "h", state: &state).get()
        #expect(onH.map(\.request) == ["gpus/h100", "gpus/h100"])
    }

    @Test func selectorsNarrowAndAFailedClaimChangesNothing() throws {
        var allocator = Self.allocator()
        var state = DeviceState(slices: Self.node(gpus: 4, mig: []))
        let picked = try allocator.allocate(
            Self.claim(Self.gpus(1, selector: #"device.attributes["\#(Self.driver)"].index == 2"#)), on: "node-1",
            state: &state
        ).get()
        #expect(picked.map(\.device) == ["gpu-2"])
        let before = state.allocated
        // The first request fits, the second does not: neither is kept.
        let failed = allocator.allocate(
            Self.claim(Self.gpus(2, name: "a"), Self.gpus(2, name: "b")), on: "node-1", state: &state)
        #expect(throws: DeviceAllocator.Failure.self) { try failed.get() }
        #expect(state.allocated == before)
        if case .failure(let failure) = failed {
            #expect(failure.description == "request b: 2 of gpu.starling.dev wanted; 1 of 4 on node-1 free")
        }
        let unknown = allocator.allocate(
            Self.claim(DeviceRequest(name: "x", exactly: ExactDeviceRequest(deviceClassName: "tpu.example.com"))),
            on: "node-1", state: &state)
        #expect(throws: DeviceAllocator.Failure.self) { try unknown.get() }
    }

    @Test func allocationModeAllTakesEveryMatchingDeviceOrNone() throws {
        var allocator = Self.allocator()
        var state = DeviceState(slices: Self.node(gpus: 3, mig: []))
        let all = DeviceRequest(
            name: "all", exactly: ExactDeviceRequest(deviceClassName: GPUInventory.gpuClass, allocationMode: .all))
        #expect(try allocator.allocate(Self.claim(all), on: "node-1", state: &state).get().count == 3)
        var busy = DeviceState(
            slices: Self.node(gpus: 3, mig: []),
            allocated: [DeviceID(driver: Self.driver, pool: "node-1", device: "gpu-1")])
        #expect(throws: DeviceAllocator.Failure.self) {
            try allocator.allocate(Self.claim(all), on: "node-1", state: &busy).get()
        }
    }

    @Test func anOlderGenerationOfAPoolIsNotUsed() throws {
        let old = Self.node(gpus: 4, mig: [])
        let new = GPUInventory.simulated(node: "node-1", acceleratorType: "H100-80GB", count: 2).resourceSlices(
            generation: 1)
        var state = DeviceState(slices: old + new)
        var allocator = Self.allocator()
        #expect(throws: DeviceAllocator.Failure.self) {
            try allocator.allocate(Self.claim(Self.gpus(3)), on: "node-1", state: &state).get()
        }
        #expect(try allocator.allocate(Self.claim(Self.gpus(2)), on: "node-1", state: &state).get().count == 2)
    }
}
