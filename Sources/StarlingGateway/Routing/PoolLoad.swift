/// A pool's load as an autoscaler reads it (`PoolState.load`).
public struct PoolLoad: Sendable, Equatable {
    /// Each serving endpoint's latest scrape, by endpoint id (`host:port`); empty metrics before the first scrape.
    public var endpoints: [String: EndpointMetrics]
    /// Requests the gateway holds for the pool: waiting for an endpoint to appear, or for room.
    public var held: Int
    /// Requests proxied and not finished.
    public var inFlight: Int
    /// When the pool last got or finished a request.
    public var lastActivityAt: ContinuousClock.Instant?
    /// Requests received and finished since the pool was made.
    public var arrivals: Int
    public var completions: Int

    public init(
        endpoints: [String: EndpointMetrics], held: Int, inFlight: Int, lastActivityAt: ContinuousClock.Instant?,
        arrivals: Int = 0, completions: Int = 0
    ) {
        self.arrivals = arrivals
        self.completions = completions
        self.endpoints = endpoints
        self.held = held
        self.inFlight = inFlight
        self.lastActivityAt = lastActivityAt
    }
}
