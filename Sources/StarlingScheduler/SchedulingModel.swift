import StarlingAPI

/// A node as the scheduler sees it. Devices are modelled one by one so that partitions (devices that consume
/// shared counters of a parent) and topology domains can be added without changing the decision's shape.
public struct NodeInfo: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var acceleratorType: String?
    /// Indexes of every device on the node.
    public var devices: [Int]
    /// Indexes already given to pods.
    public var allocated: Set<Int>
    public var schedulable: Bool

    public init(
        name: String, labels: [String: String] = [:], acceleratorType: String?, deviceCount: Int,
        allocated: Set<Int> = [], schedulable: Bool = true
    ) {
        self.name = name
        self.labels = labels
        self.acceleratorType = acceleratorType
        self.devices = Array(0..<deviceCount)
        self.allocated = allocated
        self.schedulable = schedulable
    }

    public var freeDevices: [Int] { devices.filter { !allocated.contains($0) } }
}

/// What one pod asks for.
public struct PodRequest: Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var devices: Int
    public var nodeSelector: [String: String]

    public init(namespace: String, name: String, devices: Int, nodeSelector: [String: String] = [:]) {
        self.namespace = namespace
        self.name = name
        self.devices = devices
        self.nodeSelector = nodeSelector
    }

    public var key: String { "\(namespace)/\(name)" }
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

    public init(name: String, pods: [PodRequest], size: Int? = nil, priority: Int = 0, creationOrder: String = "") {
        self.name = name
        self.pods = pods
        self.size = max(size ?? pods.count, pods.count)
        self.priority = priority
        self.creationOrder = creationOrder
    }
}

/// A pod to bind: the node and the device indexes on it.
public struct Placement: Sendable, Equatable {
    public var pod: PodRequest
    public var node: String
    public var devices: [Int]
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
