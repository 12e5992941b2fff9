/// One endpoint as the routing decision sees it: its last scrape (if fresh) and the gateway's own count of the
/// requests it has open there, which fills the gap between scrapes.
public struct EndpointSnapshot: Sendable, Equatable {
    /// `host:port`; also what the `x-starling-endpoint` response header names.
    public var id: String
    /// The last scrape, or nil when there is none or it is stale.
    public var metrics: EndpointMetrics?
    /// Requests the gateway has open on this endpoint now.
    public var inFlight: Int
    /// Requests the gateway had open when `metrics` was scraped.
    public var inFlightAtScrape: Int
    /// Prompt tokens the gateway sent here (less what was cached) whose requests have no first token yet.
    public var pendingPrefillTokens: Int
    /// The waiting figures of up to two scrapes before `metrics`, oldest first, each within the staleness bound of
    /// the next.
    public var earlierWaiting: [Double]

    public init(
        id: String, metrics: EndpointMetrics? = nil, inFlight: Int = 0, inFlightAtScrape: Int = 0,
        pendingPrefillTokens: Int = 0, earlierWaiting: [Double] = []
    ) {
        self.id = id
        self.metrics = metrics
        self.inFlight = inFlight
        self.inFlightAtScrape = inFlightAtScrape
        self.pendingPrefillTokens = pendingPrefillTokens
        self.earlierWaiting = earlierWaiting
    }

    /// Requests sent since the scrape that it cannot show yet (negative when more finished than started).
    public var unseen: Int { inFlight - inFlightAtScrape }

    /// Waiting plus running requests: the scrape's figure moved by what the gateway sent or saw finish since,
    /// or the gateway's in-flight count when there is no fresh scrape.
    public var estimatedQueue: Double {
        guard let metrics, metrics.running != nil || metrics.waiting != nil else { return Double(inFlight) }
        return max(0, (metrics.running ?? 0) + (metrics.waiting ?? 0) + Double(unseen))
    }

    /// Requests queued at the endpoint, as saturation reads it. A model server counts requests that arrived since
    /// its last engine step as waiting, so at high request rates one scrape can show a queue the next step
    /// clears: the queue is the smallest waiting figure of the last three scrapes, and none unless it lasts.
    /// While there is one, each request sent since the last scrape joins it and each that finished lets one
    /// in, so requests held at the gateway go as soon as a slot frees, not at the next scrape. Without a
    /// waiting figure, the gateway's in-flight count.
    public var estimatedWaiting: Double {
        guard let waiting = metrics?.waiting else { return Double(inFlight) }
        let sustained = earlierWaiting.reduce(waiting, min)
        return sustained > 0 ? max(0, sustained + Double(unseen)) : 0
    }
}
