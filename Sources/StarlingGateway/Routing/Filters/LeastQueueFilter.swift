/// Keeps the endpoints whose estimated queue (waiting plus running) is within `slack` of the shortest, so a
/// strong affinity score cannot pull a request onto a replica far busier than the rest.
public struct LeastQueueFilter: EndpointFilter {
    public var slack: Double

    public init(slack: Double) { self.slack = slack }

    public var name: String { "least-queue" }

    public func filter(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Int] {
        let queues = endpoints.map(\.estimatedQueue)
        guard let shortest = queues.min() else { return [] }
        return queues.indices.filter { queues[$0] <= shortest + slack }
    }
}
