/// The ready-made scheduling profiles a pool can select by name.
public enum RoutingPolicy: String, Sendable, CaseIterable {
    case roundRobin = "round-robin"
    case random
    case leastQueue = "least-queue"
    case kvUtilization = "kv-utilization"
    case prefix
    /// Prefill load (prefix affinity priced in prompt tokens, against prompt work already queued) balanced with
    /// queue length and KV-cache use, with LoRA and session affinity (weights tunable per pool); adapter requests go
    /// only where the adapter can run at once, when such an endpoint exists.
    case `default`

    /// Weights of the `default` profile's scorers.
    public struct Weights: Sendable, Equatable {
        public var prefillLoad: Double = 3
        public var prefix: Double = 3
        public var queue: Double = 1
        public var kvCache: Double = 1
        public var lora: Double = 1
        public var session: Double = 4

        public init() {}
    }

    /// The profile this policy names.
    public func profile(weights: Weights = Weights()) -> SchedulingProfile {
        switch self {
        case .roundRobin: SchedulingProfile(name: rawValue, picker: RoundRobinPicker())
        case .random: SchedulingProfile(name: rawValue, picker: RandomPicker())
        case .leastQueue:
            SchedulingProfile(name: rawValue, scorers: [.init(QueueScorer(), weight: 1)])
        case .kvUtilization:
            SchedulingProfile(name: rawValue, scorers: [.init(KVCacheScorer(), weight: 1)])
        case .prefix:
            SchedulingProfile(name: rawValue, scorers: [.init(PrefixScorer(), weight: 1)])
        case .default:
            SchedulingProfile(
                name: rawValue, filters: [LoRAAffinityFilter()],
                scorers: [
                    .init(PrefillLoadScorer(), weight: weights.prefillLoad),
                    .init(PrefixScorer(), weight: weights.prefix),
                    .init(QueueScorer(), weight: weights.queue),
                    .init(KVCacheScorer(), weight: weights.kvCache), .init(LoRAAffinityScorer(), weight: weights.lora),
                    .init(SessionAffinityScorer(), weight: weights.session),
                ])
        }
    }
}
