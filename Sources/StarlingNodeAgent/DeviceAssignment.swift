import StarlingAPI

/// Which of its node's accelerators a pod's process gets, as the device plugin hands them out behind a kubelet:
/// the devices the embedded scheduler chose (the `starling.dev/devices` annotation) when it chose; otherwise, for
/// a pod that asks for `nvidia.com/gpu` (kube-scheduler counts, the node picks), the lowest-numbered free ones.
/// Pure; the agent keeps what each running pod holds.
enum DeviceAssignment {
    /// Why a pod cannot start yet.
    struct Shortage: Error, Equatable, CustomStringConvertible {
        var requested: Int
        var free: Int
        var capacity: Int

        var description: String {
            "asks for \(requested) \(WellKnown.acceleratorResource) but \(free) of the node's \(capacity) are free"
        }
    }

    /// How many whole accelerators `pod` asks for: its containers' `nvidia.com/gpu` limits (or requests).
    static func requested(by pod: Pod) -> Int {
        pod.spec.containers.reduce(0) { total, container in
            let resources = container.resources
            let value =
                resources?.limits?[WellKnown.acceleratorResource] ?? resources?.requests?[WellKnown.acceleratorResource]
            return total + (value.flatMap { Int($0) } ?? 0)
        }
    }

    /// The device indexes for `pod` on a node with `capacity` devices, `taken` by other running pods.
    static func choose(for pod: Pod, capacity: Int, taken: Set<Int>) -> Result<[Int], Shortage> {
        if let chosen = pod.metadata.annotations?[WellKnown.devicesAnnotation] {
            return .success(chosen.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        }
        let count = requested(by: pod)
        guard count > 0 else { return .success([]) }
        let free = (0..<capacity).filter { !taken.contains($0) }
        guard free.count >= count else {
            return .failure(Shortage(requested: count, free: free.count, capacity: capacity))
        }
        return .success(Array(free.prefix(count)))
    }
}
