/// Prefers the endpoint where the prompt would be computed soonest, counting in prompt tokens: the tokens of
/// this prompt it does not have cached (its prefix match is subtracted), plus the prompt tokens the gateway sent
/// there that it has not finished computing (no first token yet), plus one prompt like this one for each request
/// the endpoint's last scrape showed waiting beyond the gateway's own (someone else's work, which the gateway
/// cannot see otherwise; its own waiting requests are already in the pending prompt tokens). A
/// prefix hit is worth exactly the prefill it
/// saves, so a request leaves its prefix's endpoint only when waiting there would cost more than computing the
/// whole prompt elsewhere; with no shared prefixes it balances queued prompt work, which request counts miss
/// when prompt lengths vary.
///
/// Scores are scaled by the larger of the prompt's length and the spread of costs, so a difference of a few
/// tokens counts for little and one of a whole prompt counts fully.
public struct PrefillLoadScorer: EndpointScorer {
    public init() {}

    public var name: String { "prefill-load" }

    public func scores(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Double] {
        let costs = endpoints.map { Self.cost(request, $0) }
        guard let low = costs.min(), let high = costs.max() else { return [] }
        let scale = Double(max(request.promptTokens, high - low, 1))
        return costs.map { 1 - Double($0 - low) / scale }
    }

    /// Prompt tokens ahead of (and including) this request's own prefill on `endpoint`.
    public static func cost(_ request: RoutingRequest, _ endpoint: EndpointSnapshot) -> Int {
        let others = max(0, Int(endpoint.metrics?.waiting ?? 0) - endpoint.inFlightAtScrape)
        return endpoint.pendingPrefillTokens + request.uncachedTokens(on: endpoint.id)
            + others * max(request.promptTokens, 1)
    }
}
