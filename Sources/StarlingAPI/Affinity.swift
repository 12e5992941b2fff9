/// Core v1 `Affinity` subset: the pod anti-affinity that keeps a group's hosts on distinct nodes, and the pod
/// affinity and anti-affinity of LeaderWorkerSet's exclusive placement (a group alone in its topology domain).
public struct Affinity: Codable, Sendable, Equatable {
    /// Pods this pod must share a topology domain with.
    public var podAffinity: PodAntiAffinity?
    /// Pods this pod must not share a topology domain with.
    public var podAntiAffinity: PodAntiAffinity?

    public init(podAffinity: PodAntiAffinity? = nil, podAntiAffinity: PodAntiAffinity? = nil) {
        self.podAffinity = podAffinity
        self.podAntiAffinity = podAntiAffinity
    }
}

/// Core v1 `PodAntiAffinity` subset.
public struct PodAntiAffinity: Codable, Sendable, Equatable {
    /// Hard rules: the pod is not scheduled where one would break.
    public var requiredDuringSchedulingIgnoredDuringExecution: [PodAffinityTerm]?

    public init(requiredDuringSchedulingIgnoredDuringExecution: [PodAffinityTerm]? = nil) {
        self.requiredDuringSchedulingIgnoredDuringExecution = requiredDuringSchedulingIgnoredDuringExecution
    }
}

/// Core v1 `PodAffinityTerm` subset.
public struct PodAffinityTerm: Codable, Sendable, Equatable {
    /// The pods the term is about.
    public var labelSelector: LabelSelectorSpec?
    /// The node label whose value defines a domain (`kubernetes.io/hostname`: one node).
    public var topologyKey: String

    public init(labelSelector: LabelSelectorSpec?, topologyKey: String) {
        self.labelSelector = labelSelector
        self.topologyKey = topologyKey
    }
}

/// `metav1.LabelSelector` as written in objects.
public struct LabelSelectorSpec: Codable, Sendable, Equatable {
    /// Labels a matching object carries, all of them.
    public var matchLabels: [String: String]?
    /// Set-based terms, all of which must hold.
    public var matchExpressions: [LabelSelectorRequirement]?

    public init(matchLabels: [String: String]?, matchExpressions: [LabelSelectorRequirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }
}

/// One set-based term of a label selector: `key In (a, b)`, `key NotIn (a)`, `key Exists`, `key DoesNotExist`.
public struct LabelSelectorRequirement: Codable, Sendable, Equatable {
    public var key: String
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}
