/// For a request to a LoRA adapter, keeps the endpoints that can run it without waiting for an adapter slot:
/// the adapter is in the running batch, or a slot is free (a LoRA affinity score of at least 0.8). A replica
/// whose slots are all held by other adapters would queue the request until they drain, however short its
/// queue looks.
public struct LoRAAffinityFilter: EndpointFilter {
    public init() {}

    public var name: String { "lora-affinity" }

    public func filter(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Int] {
        guard request.adapter != nil else { return Array(endpoints.indices) }
        let scores = LoRAAffinityScorer().scores(request, endpoints)
        return endpoints.indices.filter { scores[$0] >= 0.8 }
    }
}
