/// Prefers the endpoint that was sent the longest run of this prompt's leading blocks: the share of the
/// prompt's blocks it probably still has cached. Prompts shorter than one block score 0 everywhere.
public struct PrefixScorer: EndpointScorer {
    public init() {}

    public var name: String { "prefix" }

    public func scores(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Double] {
        guard request.blockCount > 0 else { return Array(repeating: 0, count: endpoints.count) }
        return endpoints.map {
            Double(min(request.prefixMatches[$0.id] ?? 0, request.blockCount)) / Double(request.blockCount)
        }
    }
}
