/// Keeps the endpoints whose KV-cache usage is below `threshold` (endpoints with no figure pass): a replica
/// with a full cache must evict or preempt to take more.
public struct KVCacheFilter: EndpointFilter {
    public var threshold: Double

    public init(threshold: Double) { self.threshold = threshold }

    public var name: String { "kv-cache" }

    public func filter(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Int] {
        endpoints.indices.filter { (endpoints[$0].metrics?.kvCacheUsage ?? 0) < threshold }
    }
}
