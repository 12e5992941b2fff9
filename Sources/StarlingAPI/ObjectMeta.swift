/// Kubernetes `ObjectMeta`: the fields Starling reads and writes.
public struct ObjectMeta: Codable, Sendable, Equatable, Hashable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?

    public init(
        name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil,
        annotations: [String: String]? = nil, ownerReferences: [OwnerReference]? = nil, finalizers: [String]? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
        self.finalizers = finalizers
    }

    /// The object's name, or an empty string when it has none yet.
    public var nameOrEmpty: String { name ?? "" }

    /// The controlling owner, if any.
    public var controllerReference: OwnerReference? {
        ownerReferences?.first { $0.controller == true }
    }
}

/// Kubernetes `OwnerReference`.
public struct OwnerReference: Codable, Sendable, Equatable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(
        apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil,
        blockOwnerDeletion: Bool? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// Kubernetes `ListMeta`.
public struct ListMeta: Codable, Sendable, Equatable {
    public var resourceVersion: String?
    public var `continue`: String?
    public var remainingItemCount: Int64?

    public init(resourceVersion: String? = nil, continue: String? = nil) {
        self.resourceVersion = resourceVersion
        self.continue = `continue`
    }
}

/// A status condition in the shape of `metav1.Condition` (Pod conditions use the same field names).
public struct Condition: Codable, Sendable, Equatable, Hashable {
    /// The condition's name (`Available`, `Ready`).
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    /// A CamelCase word for why the status is what it is.
    public var reason: String?
    /// What happened, for people.
    public var message: String?
    /// When the status last changed (RFC 3339).
    public var lastTransitionTime: String?
    /// The object's generation the condition was set for.
    public var observedGeneration: Int64?

    public init(
        type: String, status: String, reason: String? = nil, message: String? = nil,
        lastTransitionTime: String? = nil, observedGeneration: Int64? = nil
    ) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }

    public var isTrue: Bool { status == "True" }
}

extension [Condition] {
    /// The condition of `type`, if present.
    public func condition(_ type: String) -> Condition? { first { $0.type == type } }

    /// Sets a condition, keeping `lastTransitionTime` when the status does not change.
    public mutating func set(_ new: Condition, now: String) {
        var new = new
        if let index = firstIndex(where: { $0.type == new.type }) {
            new.lastTransitionTime = self[index].status == new.status ? self[index].lastTransitionTime : now
            self[index] = new
        } else {
            new.lastTransitionTime = now
            append(new)
        }
    }
}
