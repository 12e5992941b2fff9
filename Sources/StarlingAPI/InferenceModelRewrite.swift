/// The Gateway API Inference Extension's `InferenceModelRewrite` (`inference.networking.x-k8s.io/v1alpha2`):
/// rules that send a requested model name (or, in a rule without matches, any other name) to weighted target
/// models or adapters of one pool, for aliases and canary splits.
public struct InferenceModelRewrite: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: WellKnown.inferenceExperimentalGroup, version: "v1alpha2", kind: "InferenceModelRewrite",
        plural: "inferencemodelrewrites", singular: "inferencemodelrewrite", namespaced: true, hasStatus: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: InferenceModelRewriteSpec
    /// Conditions another controller may write; kept as it comes.
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: InferenceModelRewriteSpec) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func validate() -> [FieldError] {
        var errors = spec.poolRef.validate(path: "spec.poolRef")
        for (i, rule) in spec.rules.enumerated() {
            let path = "spec.rules[\(i)]"
            for (j, match) in (rule.matches ?? []).enumerated() {
                let matchPath = "\(path).matches[\(j)].model"
                if let type = match.model.type, type != "Exact" {
                    errors.append(.notSupported("\(matchPath).type", type, allowed: ["Exact"]))
                }
                if match.model.value.isEmpty { errors.append(.required("\(matchPath).value")) }
            }
            if rule.targets.isEmpty {
                errors.append(FieldError("\(path).targets", "Required value: at least one target"))
            }
            for (j, target) in rule.targets.enumerated() {
                if target.modelRewrite.isEmpty { errors.append(.required("\(path).targets[\(j)].modelRewrite")) }
                if let weight = target.weight, weight < 0 {
                    errors.append(FieldError("\(path).targets[\(j)].weight", "Invalid value: \(weight): must be >= 0"))
                }
            }
        }
        return errors
    }
}

/// `spec` of an InferenceModelRewrite.
public struct InferenceModelRewriteSpec: Codable, Sendable, Equatable {
    /// The InferencePool whose requests are rewritten, in the rewrite's namespace.
    public var poolRef: InferencePoolReference
    /// Rules in order; a rule without matches applies to every model no other rule matches.
    public var rules: [ModelRewriteRule]

    public init(pool: String, rules: [ModelRewriteRule]) {
        self.poolRef = InferencePoolReference(name: pool)
        self.rules = rules
    }
}

/// One rule of an InferenceModelRewrite: the model names it matches and where they go.
public struct ModelRewriteRule: Codable, Sendable, Equatable {
    /// Requested model names the rule applies to; none: every name no other rule matches.
    public var matches: [ModelRewriteMatch]?
    /// Models the request may be sent to, chosen in proportion to their weights.
    public var targets: [ModelRewriteTarget]

    public init(models: [String], targets: [ModelRewriteTarget]) {
        self.matches = models.isEmpty ? nil : models.map { ModelRewriteMatch(model: ModelNameMatch(value: $0)) }
        self.targets = targets
    }
}

/// A match of a rewrite rule.
public struct ModelRewriteMatch: Codable, Sendable, Equatable {
    /// The requested model name to match.
    public var model: ModelNameMatch

    public init(model: ModelNameMatch) { self.model = model }
}

/// A model name to match.
public struct ModelNameMatch: Codable, Sendable, Equatable {
    /// How the name is compared; only `Exact` (the default).
    public var type: String?
    /// The name.
    public var value: String

    public init(value: String) { self.value = value }
}

/// A target of a rewrite rule.
public struct ModelRewriteTarget: Codable, Sendable, Equatable {
    /// The model (or adapter) name the request is sent with.
    public var modelRewrite: String
    /// The target's share relative to the rule's other targets; default 1, 0 sends nothing.
    public var weight: Int?

    public init(modelRewrite: String, weight: Int? = nil) {
        self.modelRewrite = modelRewrite
        self.weight = weight
    }
}
