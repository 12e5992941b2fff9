/// Keeps a session (named by a request header) on the endpoint it used last: 1 there, 0 elsewhere.
public struct SessionAffinityScorer: EndpointScorer {
    public init() {}

    public var name: String { "session" }

    public func scores(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Double] {
        endpoints.map { $0.id == request.sessionEndpoint ? 1 : 0 }
    }
}
