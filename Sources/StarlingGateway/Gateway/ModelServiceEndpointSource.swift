import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// Feeds the gateway from an API server (`starling up`'s, or a cluster's with `starling gateway --from-cluster`): one
/// pool per ModelService, its endpoints the Ready
/// leader pods, followed by watch. A pod that stops being Ready or starts deleting drains.
public struct ModelServiceEndpointSource: Service {
    let client: KubeClient
    let gateway: Gateway
    let informers: SharedInformers?
    /// The one namespace watched, or nil for all.
    let namespace: String?
    let logger: Logger

    /// The requests discovery makes: the shipped gateway ClusterRole grants exactly these.
    public static let apiAccess: [APIAccess] =
        APIAccess.on(ModelService.descriptor, "list", "watch") + APIAccess.on(Pod.descriptor, "list", "watch")

    /// `informers`, when given, is the process's shared set, run by its owner; without it the source runs its own.
    public init(
        client: KubeClient, gateway: Gateway, informers: SharedInformers? = nil, namespace: String? = nil,
        logger: Logger
    ) {
        self.client = client
        self.gateway = gateway
        self.informers = informers
        self.namespace = namespace
        self.logger = logger
    }

    public func run() async throws {
        let shared = informers ?? SharedInformers(client: client, logger: logger)
        let services = await shared.informer(ModelService.self, namespace: namespace)
        let pods = await shared.informer(Pod.self, namespace: namespace)
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let servicesHandler = await services.addHandler { _ in continuation.yield() }
        let podsHandler = await pods.addHandler { event in
            switch event {
            case .added(let p), .updated(_, let p), .deleted(let p):
                if p.metadata.labels?[WellKnown.modelServiceLabel] != nil { continuation.yield() }
            }
        }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if informers == nil { group.addTask { await shared.run() } }
                group.addTask {
                    await services.waitForSync()
                    await pods.waitForSync()
                    var last: [RoutedPool] = []
                    var iterator = changes.makeAsyncIterator()
                    repeat {
                        let served = await pods.list(
                            selector: LabelSelector(requirements: [.exists(WellKnown.modelServiceLabel)]))
                        let pools = RoutedPool.pools(services: await services.list(), pods: served)
                        if pools != last {
                            gateway.syncPools(pools, objectives: RoutedPool.objectives(pools))
                            logger.info(
                                "gateway pools updated",
                                metadata: [
                                    "gateway.pools":
                                        "\(pools.map { "\($0.name)=\($0.endpoints.count)" }.joined(separator: ","))"
                                ])
                            last = pools
                        }
                    } while await iterator.next() != nil
                }
                await group.next()
                group.cancelAll()
            }
        }
        await services.removeHandler(servicesHandler)
        await pods.removeHandler(podsHandler)
    }
}
