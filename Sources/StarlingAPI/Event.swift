/// Core v1 `Event`.
public struct Event: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: "", version: "v1", kind: "Event", plural: "events", singular: "event", namespaced: true,
        shortNames: ["ev"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var type: String?
    public var count: Int?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var source: EventSource?
    public var reportingComponent: String?

    public init(
        metadata: ObjectMeta, involvedObject: ObjectReference, reason: String, message: String, type: String,
        component: String, now: String
    ) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        self.count = 1
        self.firstTimestamp = now
        self.lastTimestamp = now
        self.source = EventSource(component: component)
        self.reportingComponent = component
    }
}

/// Core v1 `ObjectReference`.
public struct ObjectReference: Codable, Sendable, Equatable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?

    public init(apiVersion: String?, kind: String?, namespace: String?, name: String?, uid: String?) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// A reference to `object`.
    public init<T: KubernetesResource>(_ object: T) {
        self.init(
            apiVersion: T.descriptor.apiVersion, kind: T.descriptor.kind, namespace: object.metadata.namespace,
            name: object.metadata.name, uid: object.metadata.uid)
    }
}

/// Core v1 `EventSource`.
public struct EventSource: Codable, Sendable, Equatable {
    public var component: String?
    public var host: String?
    public init(component: String?) { self.component = component }
}
