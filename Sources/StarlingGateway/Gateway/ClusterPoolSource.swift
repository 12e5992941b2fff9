import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// Feeds the gateway from an API server (`starling up`'s, or a cluster's with `starling gateway --from-cluster`):
/// one pool per ModelService (its Ready leader pods) and one per InferencePool (the Ready pods its selector
/// matches), with the InferenceObjectives and InferenceModelRewrites that refer to them, followed by watch. A pod
/// that stops being Ready or starts deleting drains. `ClusterRoutes.plan` decides; this loop only watches.
///
/// The Inference Extension's kinds are watched once discovery shows the server serves them; until then they are
/// asked for again every `rediscoveryInterval`, so installing their CRDs later needs no restart.
public struct ClusterPoolSource: Service {
    let client: any KubeAPI
    let gateway: Gateway
    let informers: SharedInformers?
    /// The one namespace watched, or nil for all.
    let namespace: String?
    let rediscoveryInterval: Duration
    let logger: Logger

    /// The Inference Extension's kinds the source follows when the server serves them.
    public static let inferenceKinds: [ResourceDescriptor] = [
        InferencePool.descriptor, InferenceObjective.descriptor, InferenceModelRewrite.descriptor,
    ]

    /// The requests discovery makes: the shipped gateway ClusterRole grants exactly these. (Reading discovery
    /// documents needs no grant: every authenticated client may.)
    public static let apiAccess: [APIAccess] =
        APIAccess.on(ModelService.descriptor, "list", "watch") + APIAccess.on(Pod.descriptor, "list", "watch")
        + inferenceKinds.flatMap { APIAccess.on($0, "list", "watch") }

    /// `informers`, when given, is the process's shared set, run by its owner; without it the source runs its own.
    public init(
        client: any KubeAPI, gateway: Gateway, informers: SharedInformers? = nil, namespace: String? = nil,
        rediscoveryInterval: Duration = .seconds(30), logger: Logger
    ) {
        self.client = client
        self.gateway = gateway
        self.informers = informers
        self.namespace = namespace
        self.rediscoveryInterval = rediscoveryInterval
        self.logger = logger
    }

    public func run() async throws {
        let shared = informers ?? SharedInformers(client: client, logger: logger)
        let services = await shared.informer(ModelService.self, namespace: namespace)
        let pods = await shared.informer(Pod.self, namespace: namespace)
        let inference = InferenceInformers()
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let servicesHandler = await services.addHandler { _ in continuation.yield() }
        // Every pod may matter once an InferencePool selects it; without one, only ModelServices' pods do.
        let podsHandler = await pods.addHandler { event in
            switch event {
            case .added(let p), .updated(_, let p), .deleted(let p):
                if await inference.watchesPools || p.metadata.labels?[WellKnown.modelServiceLabel] != nil {
                    continuation.yield()
                }
            }
        }
        await cancelWhenGracefulShutdown {
            // A child returns whether the source is done when it ends: rediscovery ends early, once all is found.
            await withTaskGroup(of: Bool.self) { group in
                if informers == nil {
                    group.addTask {
                        await shared.run()
                        return true
                    }
                }
                group.addTask {
                    while await !inference.complete {
                        try? await Task.sleep(for: rediscoveryInterval)
                        if Task.isCancelled { break }
                        await discover(inference, shared: shared, onChange: { continuation.yield() })
                        continuation.yield()
                    }
                    return false
                }
                group.addTask {
                    await discover(inference, shared: shared, onChange: { continuation.yield() })
                    await services.waitForSync()
                    await pods.waitForSync()
                    await inference.waitForSync()
                    var last: ClusterRoutes?
                    var iterator = changes.makeAsyncIterator()
                    repeat {
                        let routes = ClusterRoutes.plan(
                            services: await services.list(), inference: await inference.objects(),
                            pods: await pods.list())
                        if routes != last {
                            gateway.syncPools(routes.pools, objectives: routes.objectives)
                            logger.info(
                                "gateway pools updated",
                                metadata: [
                                    "gateway.pools":
                                        "\(routes.pools.map { "\($0.name)=\($0.endpoints.count)" }.joined(separator: ","))"
                                ])
                            for problem in routes.problems where !(last?.problems.contains(problem) ?? false) {
                                logger.warning("gateway route not applied", metadata: ["gateway.problem": "\(problem)"])
                            }
                            last = routes
                        }
                    } while await iterator.next() != nil
                    return true
                }
                while let done = await group.next(), !done {}
                group.cancelAll()
            }
        }
        await services.removeHandler(servicesHandler)
        await pods.removeHandler(podsHandler)
        await inference.removeHandlers()
    }

    /// Starts informers for the Inference Extension kinds discovery now shows as served.
    private func discover(
        _ inference: InferenceInformers, shared: SharedInformers, onChange: @escaping @Sendable () -> Void
    ) async {
        for descriptor in Self.inferenceKinds where await !inference.started(descriptor) {
            // A source stopped before its server answered returns at once (as at start-up failures).
            if Task.isCancelled { return }
            do {
                guard try await client.serves(descriptor) else { continue }
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "discovery failed; asking again later",
                    metadata: ["kube.resource": "\(descriptor)", "error": "\(error)"])
                continue
            }
            logger.info("following \(descriptor.kind) objects", metadata: ["kube.resource": "\(descriptor)"])
            switch descriptor {
            case InferencePool.descriptor:
                await inference.follow(await shared.informer(InferencePool.self, namespace: namespace), onChange)
            case InferenceObjective.descriptor:
                await inference.follow(await shared.informer(InferenceObjective.self, namespace: namespace), onChange)
            default:
                await inference.follow(
                    await shared.informer(InferenceModelRewrite.self, namespace: namespace), onChange)
            }
        }
    }
}

/// The informers of the Inference Extension kinds a `ClusterPoolSource` follows, added as discovery finds them.
actor InferenceInformers {
    private var pools: Informer<InferencePool>?
    private var objectives: Informer<InferenceObjective>?
    private var rewrites: Informer<InferenceModelRewrite>?
    private var removals: [@Sendable () async -> Void] = []

    var complete: Bool { pools != nil && objectives != nil && rewrites != nil }

    /// Whether InferencePools are followed (so any pod may be an endpoint).
    var watchesPools: Bool { pools != nil }

    func started(_ descriptor: ResourceDescriptor) -> Bool {
        switch descriptor {
        case InferencePool.descriptor: pools != nil
        case InferenceObjective.descriptor: objectives != nil
        default: rewrites != nil
        }
    }

    func follow<T: KubernetesResource>(_ informer: Informer<T>, _ onChange: @escaping @Sendable () -> Void) async {
        guard !started(T.descriptor) else { return }
        let id = await informer.addHandler { _ in onChange() }
        removals.append { await informer.removeHandler(id) }
        if let informer = informer as? Informer<InferencePool> { pools = informer }
        if let informer = informer as? Informer<InferenceObjective> { objectives = informer }
        if let informer = informer as? Informer<InferenceModelRewrite> { rewrites = informer }
    }

    func waitForSync() async {
        await pools?.waitForSync()
        await objectives?.waitForSync()
        await rewrites?.waitForSync()
    }

    /// The cached objects of the kinds whose first list is done (a partial cache would drop pools for a moment).
    func objects() async -> ClusterRoutes.InferenceObjects {
        ClusterRoutes.InferenceObjects(
            pools: await Self.synced(pools), objectives: await Self.synced(objectives),
            rewrites: await Self.synced(rewrites))
    }

    private static func synced<T: KubernetesResource>(_ informer: Informer<T>?) async -> [T] {
        guard let informer, await informer.hasSynced else { return [] }
        return await informer.list()
    }

    func removeHandlers() async {
        for remove in removals { await remove() }
        removals = []
    }
}
