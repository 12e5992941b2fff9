/// DRA's `ResourceClaimTemplate` (`resource.k8s.io/v1`): the claim each pod that names it gets, made for the pod
/// and owned by it, so the claim and its devices go when the pod goes.
public struct ResourceClaimTemplate: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: WellKnown.resourceGroup, version: "v1", kind: "ResourceClaimTemplate", plural: "resourceclaimtemplates",
        singular: "resourceclaimtemplate", namespaced: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ResourceClaimTemplateSpec

    public init(metadata: ObjectMeta, spec: ResourceClaimTemplateSpec) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func validate() -> [FieldError] { spec.spec.validate(path: "spec.spec") }
}

/// `spec` of a ResourceClaimTemplate: labels and annotations for the claims, and their spec.
public struct ResourceClaimTemplateSpec: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta?
    public var spec: ResourceClaimSpec

    public init(metadata: ObjectMeta? = nil, spec: ResourceClaimSpec) {
        self.metadata = metadata
        self.spec = spec
    }
}
