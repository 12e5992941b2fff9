/// Core v1 `Affinity` subset: the pod anti-affinity that keeps a group's hosts on distinct nodes.
public struct Affinity: Codable, Sendable, Equatable {
    /// Pods this pod must not share a topology domain with.
    public var podAntiAffinity: PodAntiAffinity?

    public init(podAntiAffinity: PodAntiAffinity? = nil) { self.podAntiAffinity = podAntiAffinity }
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

/// `metav1.LabelSelector` as written in objects (equality terms only).
public struct LabelSelectorSpec: Codable, Sendable, Equatable {
    /// Labels a matching object carries, all of them.
    public var matchLabels: [String: String]?

    public init(matchLabels: [String: String]?) { self.matchLabels = matchLabels }
}
