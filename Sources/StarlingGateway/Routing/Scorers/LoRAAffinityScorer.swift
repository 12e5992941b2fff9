/// For a request to a LoRA adapter, prefers the endpoint that has the adapter in its running batch (1.0), then
/// one with a free adapter slot (0.8), then one where the adapter is queued (0.6); an endpoint with none of
/// these scores 0, one without adapter metrics 0.5. Requests to a base model score 1 everywhere.
public struct LoRAAffinityScorer: EndpointScorer {
    public init() {}

    public var name: String { "lora" }

    public func scores(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Double] {
        guard let adapter = request.adapter else { return Array(repeating: 1, count: endpoints.count) }
        return endpoints.map { endpoint in
            guard let metrics = endpoint.metrics, let running = metrics.runningAdapters else { return 0.5 }
            if running.contains(adapter) { return 1 }
            let waiting = metrics.waitingAdapters ?? []
            if let slots = metrics.maxLoras, running.union(waiting).count < slots { return 0.8 }
            if waiting.contains(adapter) { return 0.6 }
            return 0
        }
    }
}
