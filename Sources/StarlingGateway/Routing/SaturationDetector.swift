/// Decides whether a pool is saturated: no endpoint has a short queue and room in its KV cache (the Gateway API
/// Inference Extension's rule), where the queue is one that lasts across the last three scrapes
/// (`EndpointSnapshot.estimatedWaiting`: requests between two engine steps are not one). Where the scrape is missing
/// or stale, the gateway's own count of requests in flight there stands in for the queue, so an endpoint whose
/// metrics stop arriving takes only a few more.
public struct SaturationDetector: Sendable, Equatable {
    /// An endpoint has room while fewer than this many requests wait there.
    public var queueDepthThreshold: Double
    /// An endpoint has room while its KV-cache usage is below this.
    public var kvCacheThreshold: Double

    public init(queueDepthThreshold: Double = 5, kvCacheThreshold: Double = 0.8) {
        self.queueDepthThreshold = queueDepthThreshold
        self.kvCacheThreshold = kvCacheThreshold
    }

    /// Whether `endpoint` can take more work now.
    public func hasRoom(_ endpoint: EndpointSnapshot) -> Bool {
        endpoint.estimatedWaiting < queueDepthThreshold && (endpoint.metrics?.kvCacheUsage ?? 0) < kvCacheThreshold
    }

    /// Whether no endpoint can take more work.
    public func isSaturated(_ endpoints: [EndpointSnapshot]) -> Bool {
        !endpoints.contains { hasRoom($0) }
    }
}
