/// Prefers short queues: the endpoint with the fewest waiting plus running requests (as estimated between
/// scrapes) scores 1, the one with the most 0, the rest in proportion. Equal queues score 1 each.
public struct QueueScorer: EndpointScorer {
    public init() {}

    public var name: String { "queue" }

    public func scores(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Double] {
        let queues = endpoints.map(\.estimatedQueue)
        guard let low = queues.min(), let high = queues.max(), high > low else {
            return Array(repeating: 1, count: endpoints.count)
        }
        return queues.map { (high - $0) / (high - low) }
    }
}
