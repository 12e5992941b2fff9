import ServiceLifecycle

/// Runs a service after a delay: a model server that loads its model before it listens, as vLLM's API server binds
/// only once its engine is up (connections are refused meanwhile, so readiness probes fail). A shutdown during
/// the delay ends it without starting the service.
public struct LoadingDelay: Service {
    let delay: Duration
    let service: any Service

    public init(_ delay: Duration, then service: any Service) {
        self.delay = delay
        self.service = service
    }

    public func run() async throws {
        if delay > .zero {
            let loaded = await cancelWhenGracefulShutdown { () async -> Bool in
                (try? await Task.sleep(for: delay)) != nil
            }
            guard loaded, !Task.isShuttingDownGracefully else { return }
        }
        try await service.run()
    }
}
