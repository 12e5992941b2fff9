import StarlingAPI

/// What a pod's allocated claims give its process, as a DRA driver's kubelet plugin prepares them: the devices'
/// indexes (whole GPUs) or names (partitions) in `STARLING_DEVICES`, their UUIDs (`CUDA_VISIBLE_DEVICES` on real
/// GPUs), and the accelerator type and partition profile allocated, so a simulated server models that hardware.
/// Pure.
public struct ClaimedDevices: Sendable, Equatable {
    /// Whole GPUs by index: other pods asking for `nvidia.com/gpu` must not get them.
    public var wholeGPUs: [Int] = []
    public var names: [String] = []
    public var uuids: [String] = []
    public var acceleratorType: String?
    public var partition: String?

    /// The devices `results` name on a node with `inventory`; devices of other drivers are passed by name.
    public init(results: [DeviceRequestAllocationResult], inventory: GPUInventory?) {
        var byName: [String: Device] = [:]
        for gpu in inventory?.gpus ?? [] {
            for device in inventory?.devices(of: gpu) ?? [] { byName[device.name] = device }
        }
        for result in results {
            guard result.driver == GPUInventory.driver, let device = byName[result.device] else {
                names.append(result.device)
                continue
            }
            let attributes = device.attributes ?? [:]
            if attributes["type"]?.string == "gpu", let index = attributes["index"]?.int {
                wholeGPUs.append(index)
                names.append(String(index))
            } else {
                names.append(result.device)
            }
            if let uuid = attributes["uuid"]?.string { uuids.append(uuid) }
            acceleratorType = acceleratorType ?? attributes["productName"]?.string
            partition = partition ?? attributes["profile"]?.string
        }
    }

    /// The process's environment for these devices.
    public func environment(realDevices: Bool) -> [String: String] {
        var env = ["STARLING_DEVICES": names.joined(separator: ",")]
        if let acceleratorType { env[WellKnown.envAcceleratorType] = acceleratorType }
        if let partition { env[WellKnown.envAcceleratorPartition] = partition }
        if !uuids.isEmpty { env["STARLING_DEVICE_UUIDS"] = uuids.joined(separator: ",") }
        if realDevices { env["CUDA_VISIBLE_DEVICES"] = uuids.joined(separator: ",") }
        return env
    }
}
