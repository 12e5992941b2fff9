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

    public init(
        endpoints: [String: EndpointMetrics], held: Int, inFlight: Int, lastActivityAt: ContinuousClock.Instant?
    ) {
        self.endpoints = endpoints
        self.held = held
        self.inFlight = inFlight
        self.lastActivityAt = lastActivityAt
    }
}
