import StarlingAPI
import StarlingControllers
import StarlingGateway

/// The autoscaler's signals in `starling up`: the gateway in the same process, whose 50 ms scrapes of every replica
/// and count of held requests are read directly, with no scrape of its own.
struct GatewayAutoscaleSignals: AutoscaleSignalSource {
    let gateway: Gateway
    /// Idle time counts from here for a pool that never had a request.
    let started = ContinuousClock.now

    func load(of service: ModelService, endpoints: [String]) async -> ObservedLoad? {
        let pool = RoutedPool.key(namespace: service.metadata.namespace, name: service.metadata.nameOrEmpty)
        guard let load = gateway.load(pool: pool) else { return nil }
        var replicas: [String: AutoscaleSignals.Replica] = [:]
        for (id, m) in load.endpoints where m.running != nil || m.waiting != nil || m.kvCacheUsage != nil {
            replicas[id] = AutoscaleSignals.Replica(
                waiting: m.waiting ?? 0, running: m.running ?? 0, kvCache: m.kvCacheUsage ?? 0)
        }
        let busy = load.held > 0 || load.inFlight > 0 || replicas.values.contains { $0.running > 0 || $0.waiting > 0 }
        return ObservedLoad(
            replicas: replicas, held: load.held,
            idleFor: busy ? nil : ContinuousClock.now - (load.lastActivityAt ?? started), arrivals: load.arrivals,
            completions: load.completions)
    }
}
