import StarlingTokenizer

/// Objectives and model rewrites of the pools: which criticality a request has and which model it is sent to.
///
/// Two shapes are read, as the Gateway API Inference Extension has had both:
/// - `InferenceObjective` (v1alpha2 style) with `modelName`, `criticality` and weighted `targetModels`, matched
///   by the request's model;
/// - `InferenceObjective` with an integer `priority`, chosen by the `x-gateway-inference-objective` header,
///   and `InferenceModelRewrite` rules that map a model name (or any, with no match) to weighted targets.
public struct ObjectiveTable: Sendable, Equatable {
    /// A weighted model a request may be sent to.
    public struct Target: Sendable, Equatable {
        public var model: String
        public var weight: Int

        public init(model: String, weight: Int) {
            self.model = model
            self.weight = weight
        }
    }

    /// What a model name maps to.
    public struct ModelRule: Sendable, Equatable {
        /// The objective it came from, for metrics and logs.
        public var objective: String?
        public var criticality: Criticality?
        /// Empty: the model is sent under its own name.
        public var targets: [Target]

        public init(objective: String? = nil, criticality: Criticality? = nil, targets: [Target] = []) {
            self.objective = objective
            self.criticality = criticality
            self.targets = targets
        }
    }

    /// What a request resolves to.
    public struct Resolution: Sendable, Equatable {
        public var model: String
        public var criticality: Criticality
        public var objective: String?
    }

    /// Objectives chosen by header, by name.
    public var objectives: [String: Criticality] = [:]
    /// Rules by the model name clients send.
    public var models: [String: ModelRule] = [:]
    /// The rule for models no other rule names (an `InferenceModelRewrite` rule without matches).
    public var fallback: ModelRule?

    public init() {}

    /// This table with what it lacks taken from `other`: objectives and model rules `self` defines win.
    public func overlaying(_ other: ObjectiveTable) -> ObjectiveTable {
        var merged = self
        merged.objectives.merge(other.objectives) { mine, _ in mine }
        merged.models.merge(other.models) { mine, _ in mine }
        merged.fallback = fallback ?? other.fallback
        return merged
    }

    /// The model names clients may send besides the ones endpoints serve.
    public var aliases: [String] { models.keys.sorted() }

    /// Resolves `model`; `objective` is the `x-gateway-inference-objective` header. An objective the table does
    /// not know gives the default priority, as in the Inference Extension.
    public func resolve(model: String, objective: String?, random: inout SeededRandom) -> Resolution {
        let rule = models[model] ?? fallback
        var criticality = rule?.criticality ?? .standard
        var objectiveName = rule?.objective
        if let objective, let named = objectives[objective] {
            criticality = named
            objectiveName = objective
        }
        return Resolution(
            model: Self.choose(rule?.targets ?? [], random: &random) ?? model, criticality: criticality,
            objective: objectiveName)
    }

    /// A target chosen with probability proportional to its weight; nil when there are none.
    static func choose(_ targets: [Target], random: inout SeededRandom) -> String? {
        let total = targets.reduce(0) { $0 + max(0, $1.weight) }
        guard total > 0 else { return targets.first?.model }
        var ticket = Int(random.next() % UInt64(total))
        for target in targets where target.weight > 0 {
            if ticket < target.weight { return target.model }
            ticket -= target.weight
        }
        return targets.last?.model
    }
}
