/// Core v1 `Node`: the fields Starling uses.
public struct Node: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: "", version: "v1", kind: "Node", plural: "nodes", singular: "node", namespaced: false,
        shortNames: ["no"], hasStatus: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NodeSpec?
    public var status: NodeStatus?

    public init(metadata: ObjectMeta, spec: NodeSpec? = nil, status: NodeStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The accelerator type from the `starling.dev/accelerator-type` label.
    public var acceleratorType: String? { metadata.labels?[WellKnown.acceleratorTypeLabel] }

    /// Whole accelerators the node has, from `status.capacity`.
    public var acceleratorCount: Int {
        Int(
            status?.allocatable?[WellKnown.acceleratorResource] ?? status?.capacity?[WellKnown.acceleratorResource]
                ?? "0")
            ?? 0
    }

    /// True unless the node has a Ready condition that is not True.
    public var isReady: Bool {
        guard let ready = status?.conditions?.first(where: { $0.type == "Ready" }) else { return true }
        return ready.status == "True"
    }

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        for key in [WellKnown.acceleratorResource] {
            for (field, map) in [("status.capacity", status?.capacity), ("status.allocatable", status?.allocatable)] {
                if let v = map?[key], Int(v).map({ $0 >= 0 }) != true {
                    errors.append(
                        FieldError(
                            "\(field)[\(key)]", "Invalid value: \"\(v)\": must be a whole number of devices >= 0"))
                }
            }
        }
        return errors
    }
}

/// Core v1 `NodeSpec` subset.
public struct NodeSpec: Codable, Sendable, Equatable {
    public var unschedulable: Bool?
    public init(unschedulable: Bool? = nil) { self.unschedulable = unschedulable }
}

/// Core v1 `NodeStatus` subset.
public struct NodeStatus: Codable, Sendable, Equatable {
    public var capacity: [String: String]?
    public var allocatable: [String: String]?
    public var conditions: [NodeCondition]?
    public var addresses: [NodeAddress]?

    public init(
        capacity: [String: String]? = nil, allocatable: [String: String]? = nil, conditions: [NodeCondition]? = nil,
        addresses: [NodeAddress]? = nil
    ) {
        self.capacity = capacity
        self.allocatable = allocatable
        self.conditions = conditions
        self.addresses = addresses
    }
}

/// Core v1 `NodeCondition`.
public struct NodeCondition: Codable, Sendable, Equatable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastHeartbeatTime: String?
    public var lastTransitionTime: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}

/// Core v1 `NodeAddress`.
public struct NodeAddress: Codable, Sendable, Equatable {
    public var type: String
    public var address: String
    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}
