/// A named pipeline that picks one endpoint for a request: filters narrow the candidates, weighted scorers
/// rate them, a picker chooses. Pure: the same request, endpoints and state give the same pick.
public struct SchedulingProfile: Sendable {
    /// A scorer and how much its score counts.
    public struct WeightedScorer: Sendable {
        public var scorer: any EndpointScorer
        public var weight: Double

        public init(_ scorer: any EndpointScorer, weight: Double) {
            self.scorer = scorer
            self.weight = weight
        }
    }

    public var name: String
    public var filters: [any EndpointFilter]
    public var scorers: [WeightedScorer]
    public var picker: any EndpointPicker

    public init(
        name: String, filters: [any EndpointFilter] = [], scorers: [WeightedScorer] = [],
        picker: any EndpointPicker = MaxScorePicker()
    ) {
        self.name = name
        self.filters = filters
        self.scorers = scorers
        self.picker = picker
    }

    /// Whether any scorer reads prefix matches or prompt lengths (so the gateway must tokenize and hash the
    /// prompt).
    public var usesPrefix: Bool {
        scorers.contains { ($0.scorer is PrefixScorer || $0.scorer is PrefillLoadScorer) && $0.weight != 0 }
    }

    /// Whether any scorer reads the session's last endpoint.
    public var usesSession: Bool { scorers.contains { $0.scorer is SessionAffinityScorer && $0.weight != 0 } }

    /// The chosen endpoint's index in `endpoints`, or nil when there are none.
    public func pick(_ request: RoutingRequest, from endpoints: [EndpointSnapshot], state: inout PickState) -> Int? {
        guard !endpoints.isEmpty else { return nil }
        var candidates = Array(endpoints.indices)
        for filter in filters {
            let current = candidates.map { endpoints[$0] }
            let kept = filter.filter(request, current)
            if !kept.isEmpty { candidates = kept.map { candidates[$0] } }
        }
        let current = candidates.map { endpoints[$0] }
        var totals = [Double](repeating: 0, count: current.count)
        for weighted in scorers where weighted.weight != 0 {
            let scores = weighted.scorer.scores(request, current)
            for i in totals.indices { totals[i] += weighted.weight * scores[i] }
        }
        return candidates[picker.pick(totals, current, state: &state)]
    }
}
