import StarlingAPI

/// A node as the scheduler sees it; its devices are in the `DeviceState` the scheduler is given.
public struct NodeInfo: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var acceleratorType: String?
    public var schedulable: Bool

    public init(name: String, labels: [String: String] = [:], acceleratorType: String?, schedulable: Bool = true) {
        self.name = name
        self.labels = labels
        self.acceleratorType = acceleratorType
        self.schedulable = schedulable
    }
}

/// A claim a pod needs allocated: the ResourceClaim's name and what it asks for.
public struct PodClaim: Sendable, Equatable {
    public var name: String
    public var spec: ResourceClaimSpec

    public init(name: String, spec: ResourceClaimSpec) {
        self.name = name
        self.spec = spec
    }
}

/// What one pod asks for.
public struct PodRequest: Sendable, Equatable {
    public var namespace: String
    public var name: String
    /// Whole GPUs asked for as the `nvidia.com/gpu` extended resource: allocated as a claim of that many devices
    /// of the GPU class, and recorded by index in the pod's devices annotation.
    public var devices: Int
    public var nodeSelector: [String: String]
    /// Claims to allocate with the pod.
    public var claims: [PodClaim]
    /// The node the pod's already-allocated claims tie it to.
    public var pinnedNode: String?
    /// The pod's uid, for the claims' `reservedFor`.
    public var uid: String

    public init(
        namespace: String, name: String, devices: Int = 0, nodeSelector: [String: String] = [:],
        claims: [PodClaim] = [], pinnedNode: String? = nil, uid: String = ""
    ) {
        self.namespace = namespace
        self.name = name
        self.devices = devices
        self.nodeSelector = nodeSelector
        self.claims = claims
        self.pinnedNode = pinnedNode
        self.uid = uid
    }

    public var key: String { "\(namespace)/\(name)" }

    /// What the pod asks of a node's devices: its extended-resource GPUs (as the implicit claim `""`) and claims.
    var allClaims: [PodClaim] {
        let implicit =
            devices > 0
            ? [
                PodClaim(
                    name: "",
                    spec: ResourceClaimSpec(requests: [
                        DeviceRequest(
                            name: "gpus",
                            exactly: ExactDeviceRequest(deviceClassName: GPUInventory.gpuClass, count: devices))
                    ]))
            ] : []
        return implicit + claims
    }
}

/// Pods placed together or not at all. `size` may exceed `pods.count` when members do not exist yet (workers
/// created after their leader is ready); room is still checked for them, shaped like the first pod.
public struct Gang: Sendable, Equatable {
    public var name: String
    public var pods: [PodRequest]
    public var size: Int
    public var priority: Int
    /// Orders gangs of equal priority (older first).
    public var creationOrder: String
    /// Members go to different nodes (one host per node).
    public var distinctNodes: Bool
    /// A node label key: all members in one domain of it, and no other exclusively placed group there.
    public var exclusiveTopology: String?

    public init(
        name: String, pods: [PodRequest], size: Int? = nil, priority: Int = 0, creationOrder: String = "",
        distinctNodes: Bool = false, exclusiveTopology: String? = nil
    ) {
        self.exclusiveTopology = exclusiveTopology
        self.name = name
        self.pods = pods
        self.size = max(size ?? pods.count, pods.count)
        self.priority = priority
        self.creationOrder = creationOrder
        self.distinctNodes = distinctNodes
    }
}

/// A pod to bind: the node, the GPU indexes of its extended resource, and its claims' allocations.
public struct Placement: Sendable, Equatable {
    public var pod: PodRequest
    public var gang: String
    public var node: String
    public var devices: [Int]
    /// Each claim's allocated devices, by claim name.
    public var claims: [String: [DeviceRequestAllocationResult]]

    public init(
        pod: PodRequest, gang: String = "", node: String, devices: [Int] = [],
        claims: [String: [DeviceRequestAllocationResult]] = [:]
    ) {
        self.pod = pod
        self.gang = gang
        self.node = node
        self.devices = devices
        self.claims = claims
    }
}

/// The scheduler's answer for one pass.
public struct SchedulingDecision: Sendable, Equatable {
    public var placements: [Placement] = []
    /// Pods that cannot be placed now, with the reason to show in their PodScheduled condition.
    public var unschedulable: [(pod: PodRequest, message: String)] = []

    public static func == (a: Self, b: Self) -> Bool {
        a.placements == b.placements
            && a.unschedulable.map { "\($0.pod.key): \($0.message)" }
                == b.unschedulable.map { "\($0.pod.key): \($0.message)" }
    }
}

/// Which gangs' pods are in each topology domain, for the keys groups are placed exclusively by, and which domains
/// a group holds exclusively.
public struct TopologyOccupancy: Sendable, Equatable {
    /// key → domain → gangs with a pod there.
    public var present: [String: [String: Set<String>]] = [:]
    /// key → domain → the gang holding it exclusively.
    public var exclusive: [String: [String: String]] = [:]

    public init(keys: Set<String> = []) {
        for key in keys { present[key] = [:] }
    }

    /// The gangs with a pod in a domain.
    public func gangs(key: String, domain: String) -> Set<String> { present[key]?[domain] ?? [] }

    /// The gang other than `gang` that holds a domain `node` is in, if any.
    public func heldByOther(than gang: String, node: NodeInfo) -> String? {
        for (key, domains) in exclusive {
            if let domain = node.labels[key], let holder = domains[domain], holder != gang { return holder }
        }
        return nil
    }

    /// Records a pod of `gang` on `node`; with `exclusiveKey`, the gang holds the node's domain of it.
    public mutating func record(gang: String, on node: NodeInfo, exclusiveKey: String?) {
        for key in present.keys {
            if let domain = node.labels[key] { present[key, default: [:]][domain, default: []].insert(gang) }
        }
        if let key = exclusiveKey, let domain = node.labels[key] {
            present[key, default: [:]][domain, default: []].insert(gang)
            exclusive[key, default: [:]][domain] = gang
        }
    }
}
