/// The Gateway API Inference Extension's `InferenceObjective` (`inference.networking.x-k8s.io/v1alpha2`): a named
/// priority for requests to one pool, chosen per request by the `x-gateway-inference-objective` header. Priority
/// maps onto criticality: above 0 is Critical, 0 (or none) Standard, below 0 Sheddable (shed first).
public struct InferenceObjective: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: WellKnown.inferenceExperimentalGroup, version: "v1alpha2", kind: "InferenceObjective",
        plural: "inferenceobjectives", singular: "inferenceobjective", namespaced: true, hasStatus: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: InferenceObjectiveSpec
    /// Conditions another controller may write; kept as it comes.
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: InferenceObjectiveSpec) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func validate() -> [FieldError] { spec.poolRef.validate(path: "spec.poolRef") }
}

/// `spec` of an InferenceObjective.
public struct InferenceObjectiveSpec: Codable, Sendable, Equatable {
    /// Higher is more important; requests with a negative priority are shed first when the pool is saturated.
    public var priority: Int?
    /// The InferencePool the objective applies to, in the objective's namespace.
    public var poolRef: InferencePoolReference

    public init(priority: Int?, pool: String) {
        self.priority = priority
        self.poolRef = InferencePoolReference(name: pool)
    }
}

/// A reference to an InferencePool in the referring object's namespace.
public struct InferencePoolReference: Codable, Sendable, Equatable {
    /// The pool's API group; `inference.networking.k8s.io` when empty.
    public var group: String?
    /// The pool's kind; `InferencePool` when empty.
    public var kind: String?
    /// The pool's name.
    public var name: String

    public init(name: String) { self.name = name }

    func validate(path: String) -> [FieldError] {
        var errors = Validation.dnsSubdomainErrors(name, path: "\(path).name")
        if let group, !group.isEmpty, group != WellKnown.inferenceGroup {
            errors.append(.notSupported("\(path).group", group, allowed: [WellKnown.inferenceGroup]))
        }
        if let kind, !kind.isEmpty, kind != InferencePool.descriptor.kind {
            errors.append(.notSupported("\(path).kind", kind, allowed: [InferencePool.descriptor.kind]))
        }
        return errors
    }
}
