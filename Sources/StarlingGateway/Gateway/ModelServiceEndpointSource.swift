import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// Feeds the gateway from the API server in `starling up`: one pool per ModelService, its endpoints the Ready
/// leader pods, followed by watch. A pod that stops being Ready or starts deleting drains.
public struct ModelServiceEndpointSource: Service {
    let client: KubeClient
    let gateway: Gateway
    let logger: Logger

    public init(client: KubeClient, gateway: Gateway, logger: Logger) {
        self.client = client
        self.gateway = gateway
        self.logger = logger
    }

    public func run() async throws {
        let services = Informer<ModelService>(client: client, logger: logger)
        let pods = Informer<Pod>(client: client, labelSelector: WellKnown.modelServiceLabel, logger: logger)
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await services.addHandler { _ in continuation.yield() }
        await pods.addHandler { _ in continuation.yield() }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await services.run() }
                group.addTask { await pods.run() }
                group.addTask {
                    await services.waitForSync()
                    await pods.waitForSync()
                    var last: [RoutedPool] = []
                    var iterator = changes.makeAsyncIterator()
                    repeat {
                        let pools = RoutedPool.pools(services: await services.list(), pods: await pods.list())
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
    }
}
