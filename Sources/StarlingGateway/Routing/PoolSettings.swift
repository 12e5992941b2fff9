/// How one pool routes: its profile, when it counts as saturated, how long requests may wait, and the bounds of
/// its indexes.
public struct PoolSettings: Sendable {
    public var name: String
    public var profile: SchedulingProfile
    public var saturation = SaturationDetector()
    public var admission = AdmissionPolicy()
    /// Longest a request waits at the gateway for room under saturation before a 429.
    public var queueTimeout: Duration = .seconds(30)
    /// Longest a request waits for an endpoint to appear (a pool scaling from zero) before a 503.
    public var noEndpointWait: Duration = .seconds(10)
    /// Most requests held at once while no endpoint serves the model; beyond it, 429 with `retry-after`.
    public var maxHeld = 1000
    /// A scrape older than this counts as unknown.
    public var staleAfter: Duration = .milliseconds(200)
    /// Consecutive failed scrapes after which an endpoint is taken out.
    public var unhealthyAfter = 3
    /// (block, endpoint) pairs the prefix index holds.
    public var prefixIndexCapacity = 500_000
    /// Sessions remembered for session affinity.
    public var sessionCapacity = 100_000
    /// Prompt block size in tokens until an endpoint reports its own (`vllm:cache_config_info`).
    public var defaultBlockSize = 16
    /// Models the pool serves before any endpoint has said (for a pool that starts at zero replicas).
    public var models: [String] = []
    /// Seed for the pickers' random numbers (nil: from the system).
    public var seed: UInt64?

    public init(name: String, profile: SchedulingProfile = RoutingPolicy.default.profile()) {
        self.name = name
        self.profile = profile
    }
}
