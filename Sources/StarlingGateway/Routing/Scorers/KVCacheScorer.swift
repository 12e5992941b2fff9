/// Prefers free KV cache: 1 minus the usage; an endpoint with no figure scores 0.5.
public struct KVCacheScorer: EndpointScorer {
    public init() {}

    public var name: String { "kv-cache" }

    public func scores(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Double] {
        endpoints.map { endpoint in
            guard let usage = endpoint.metrics?.kvCacheUsage else { return 0.5 }
            return min(1, max(0, 1 - usage))
        }
    }
}
