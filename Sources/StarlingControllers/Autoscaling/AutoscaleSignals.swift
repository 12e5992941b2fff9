/// What the autoscaler sees of one ModelService at one moment: the load of its Ready replicas, the replicas still
/// starting, and the requests the gateway holds for it.
public struct AutoscaleSignals: Sendable, Equatable {
    /// One Ready replica's load, from its leader's metrics.
    public struct Replica: Sendable, Equatable {
        /// `vllm:num_requests_waiting`.
        public var waiting: Double
        /// `vllm:num_requests_running`.
        public var running: Double
        /// `vllm:kv_cache_usage_perc`, 0 to 1.
        public var kvCache: Double

        public init(waiting: Double = 0, running: Double = 0, kvCache: Double = 0) {
            self.waiting = waiting
            self.running = running
            self.kvCache = kvCache
        }
    }

    /// The Ready replicas whose metrics are known.
    public var ready: [Replica]
    /// Replicas that exist but are not Ready yet: capacity on its way.
    public var starting: Int
    /// Requests the gateway holds for the service (no Ready replica, or every one saturated).
    public var held: Int
    /// How long the service has had no request at all (none running, waiting or held); nil while it has some.
    public var idleFor: Duration?
    /// Requests the gateways have received and finished for the service, cumulative; nil where unknown.
    public var arrivals: Int?
    public var completions: Int?

    public init(
        ready: [Replica] = [], starting: Int = 0, held: Int = 0, idleFor: Duration? = nil, arrivals: Int? = nil,
        completions: Int? = nil
    ) {
        self.ready = ready
        self.starting = starting
        self.held = held
        self.idleFor = idleFor
        self.arrivals = arrivals
        self.completions = completions
    }

    /// Whether any request is running, waiting or held.
    public var hasDemand: Bool { held > 0 || ready.contains { $0.waiting > 0 || $0.running > 0 } }
}
