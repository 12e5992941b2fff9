/// Core v1 `Service` (the Swift name avoids swift-service-lifecycle's `Service`): Starling makes one headless
/// Service per ModelService, so each group's leader has a stable DNS name (`<pod>.<service>.<namespace>`).
public struct KubeService: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: "", version: "v1", kind: "Service", plural: "services", singular: "service", namespaced: true,
        shortNames: ["svc"], categories: ["all"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: KubeServiceSpec?

    public init(metadata: ObjectMeta, spec: KubeServiceSpec?) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
    }
}

/// Core v1 `ServiceSpec` subset.
public struct KubeServiceSpec: Codable, Sendable, Equatable {
    /// `ClusterIP` (default), `NodePort`, `LoadBalancer` or `ExternalName`.
    public var type: String?
    /// `None` for a headless Service: DNS names for each pod, no virtual IP.
    public var clusterIP: String?
    /// Pods whose labels match are the Service's endpoints.
    public var selector: [String: String]?
    /// The ports the Service exposes.
    public var ports: [ServicePort]?
    /// Publish pods before they are Ready, so a group's workers can find their leader while it starts.
    public var publishNotReadyAddresses: Bool?

    public init(
        type: String? = nil, clusterIP: String? = nil, selector: [String: String]? = nil, ports: [ServicePort]? = nil,
        publishNotReadyAddresses: Bool? = nil
    ) {
        self.type = type
        self.clusterIP = clusterIP
        self.selector = selector
        self.ports = ports
        self.publishNotReadyAddresses = publishNotReadyAddresses
    }
}

/// Core v1 `ServicePort` subset.
public struct ServicePort: Codable, Sendable, Equatable {
    /// The port's name, unique in the Service.
    public var name: String?
    /// The port the Service listens on.
    public var port: Int
    /// The pods' port: a number or a container port's name.
    public var targetPort: IntOrString?
    /// `TCP` (default), `UDP` or `SCTP`.
    public var `protocol`: String?

    public init(name: String?, port: Int, targetPort: IntOrString? = nil, protocol: String? = nil) {
        self.name = name
        self.port = port
        self.targetPort = targetPort
        self.protocol = `protocol`
    }
}
