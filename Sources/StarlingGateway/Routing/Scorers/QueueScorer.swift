/// Prefers short queues (waiting plus running requests, as estimated between scrapes), weighing a difference by
/// its size against the longest queue: the shortest scores 1, one with `d` more requests `1 - d / longest` (33
/// against 30 scores 0.91, 90 against 30 scores 0.33, 2 against 0 scores 0). Equal queues score 1 each. Unlike
/// the Inference Extension's range normalisation, which makes 33 against 30 as decisive as 90 against 30, a few
/// requests of difference between busy replicas cannot outvote cache affinity in a weighted profile.
public struct QueueScorer: EndpointScorer {
    public init() {}

    public var name: String { "queue" }

    public func scores(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Double] {
        let queues = endpoints.map(\.estimatedQueue)
        guard let low = queues.min(), let high = queues.max(), high > low else {
            return Array(repeating: 1, count: endpoints.count)
        }
        return queues.map { 1 - ($0 - low) / high }
    }
}
