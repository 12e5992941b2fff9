extension SimulatorProfile {
    /// The same model on other hardware: the built-in profile of this model and tensor parallelism on `accelerator`,
    /// or nil when there is none.
    public func onAccelerator(
        _ accelerator: String, catalog: [SimulatorProfile] = ProfileCatalog.all
    ) -> SimulatorProfile? {
        guard accelerator != self.accelerator else { return self }
        return catalog.first {
            $0.model == model && $0.tensorParallelSize == tensorParallelSize && $0.accelerator == accelerator
        }
    }

    /// This profile on a partition of its device (a MIG instance) with `computeFraction` of its compute and
    /// `memoryFraction` of its memory and memory bandwidth, as NVIDIA's MIG slices divide them.
    public func partitioned(_ partition: String, computeFraction: Double, memoryFraction: Double) -> SimulatorProfile {
        var p = self
        p.name = "\(name)@\(partition)"
        p.summary = "\(summary), on a \(partition) partition"
        p.peakFLOPs *= computeFraction
        p.memoryBandwidth *= memoryFraction
        p.deviceMemoryBytes *= memoryFraction
        p.reservedBytesPerDevice *= memoryFraction
        return p
    }
}
