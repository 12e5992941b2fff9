/// `autoscaling/v1` `Scale`, served by the `scale` subresource.
public struct Scale: Codable, Sendable, Equatable {
    public var apiVersion: String? = "autoscaling/v1"
    public var kind: String? = "Scale"
    public var metadata: ObjectMeta
    public var spec: ScaleSpec
    public var status: ScaleStatus?

    public init(metadata: ObjectMeta, replicas: Int, statusReplicas: Int, selector: String?) {
        self.metadata = metadata
        self.spec = ScaleSpec(replicas: replicas)
        self.status = ScaleStatus(replicas: statusReplicas, selector: selector)
    }
}

public struct ScaleSpec: Codable, Sendable, Equatable {
    public var replicas: Int?
    public init(replicas: Int?) { self.replicas = replicas }
}

public struct ScaleStatus: Codable, Sendable, Equatable {
    public var replicas: Int
    public var selector: String?
    public init(replicas: Int, selector: String?) {
        self.replicas = replicas
        self.selector = selector
    }
}

/// Core v1 `Binding`, posted to `pods/{name}/binding` to place a pod on a node.
public struct Binding: Codable, Sendable, Equatable {
    public var apiVersion: String? = "v1"
    public var kind: String? = "Binding"
    public var metadata: ObjectMeta
    public var target: ObjectReference

    public init(metadata: ObjectMeta, target: ObjectReference) {
        self.metadata = metadata
        self.target = target
    }
}

/// `DeleteOptions` a client may send with a delete.
public struct DeleteOptions: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var gracePeriodSeconds: Int64?
    public var propagationPolicy: String?
    public var preconditions: Preconditions?

    public init(gracePeriodSeconds: Int64? = nil, propagationPolicy: String? = nil) {
        self.gracePeriodSeconds = gracePeriodSeconds
        self.propagationPolicy = propagationPolicy
    }

    public struct Preconditions: Codable, Sendable, Equatable {
        public var uid: String?
        public var resourceVersion: String?
    }
}
