import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import StarlingOpenAI
import StarlingServerLimits
import StarlingTokenizer
import Synchronization

/// The inference gateway: an OpenAI-compatible front that sends each request to the endpoint its pool's
/// profile picks, and proxies the answer back, streaming.
///
/// Run `services(onListening:)` in a `ServiceGroup` (or use `withRunning` in tests); call `shutdown()` once
/// they have stopped.
public final class Gateway: Sendable {
    public let configuration: GatewayConfiguration
    private let routing: Mutex<Routing>
    let metrics = GatewayMetrics()
    /// For proxied requests.
    let connections: UpstreamConnectionPool
    let logger: Logger
    let tokenizer = Tokenizer()
    private let random: Mutex<SeededRandom>
    private let counter = Atomic<UInt64>(0)
    /// The gateway's own event loops, made when first needed (`services`), stopped by `shutdown()`.
    private let loops = Mutex<MultiThreadedEventLoopGroup?>(nil)
    private let instance = String(UInt64.random(in: 1 << 40..<1 << 44), radix: 36)
    /// Request bodies held by the front's connections, against `limits.maxBufferedBodyBytes`.
    let bodies: ByteBudget

    public init(configuration: GatewayConfiguration, logger: Logger = Logger(label: "starling.gateway")) {
        self.configuration = configuration
        self.logger = logger
        let pools = configuration.pools.map { pool in
            let endpointPool = EndpointPool(settings: pool.settings)
            endpointPool.update { state in
                state.setEndpoints(
                    Dictionary(pool.endpoints.map { ($0.id, $0.baseURL) }, uniquingKeysWith: { a, _ in a }))
            }
            return endpointPool
        }
        routing = Mutex(Routing(pools: pools, objectives: configuration.objectives))
        random = Mutex(
            SeededRandom(seed: configuration.pools.first?.settings.seed ?? UInt64.random(in: 0...UInt64.max)))
        connections = UpstreamConnectionPool(connectTimeout: configuration.connectTimeout)
        bodies = ByteBudget(limit: configuration.limits.maxBufferedBodyBytes)
    }

    /// The front's limits, with the connection cap lowered to what the open-file limit allows (each client
    /// connection may hold an upstream one too).
    var effectiveLimits: ConnectionLimits {
        configuration.limits.fitting(openFiles: OpenFileLimit.current)
    }

    /// The front, the scraper and the maintenance loop. `onListening` gets the front's port.
    public func services(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> [any Service] {
        [
            HTTPFront(
                host: configuration.host, port: configuration.port, group: eventLoopGroup, bodies: bodies,
                maxBodyBytes: configuration.maxBodyBytes, limits: effectiveLimits,
                onLimit: { [metrics] event in metrics.connectionLimit(event) },
                logger: logger, handler: { [self] request, writer in await handle(request, writer) },
                onListening: onListening),
            EndpointScraper(gateway: self),
        ]
    }

    /// Closes upstream connections and stops the event loops; call after the services have stopped.
    public func shutdown() async throws {
        connections.shutdown()
        if let group = loops.withLock({ $0.take() }) { try await group.shutdownGracefully() }
    }

    /// The `configuration.eventLoops` threads the front's connections, the upstream connections made for them and
    /// the scrapes run on: the gateway's own, so that it can use fewer than the process's shared group has.
    var eventLoopGroup: MultiThreadedEventLoopGroup {
        loops.withLock { loops in
            if let group = loops { return group }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
            loops = group
            return group
        }
    }

    /// Runs the gateway for the duration of `body`, which gets the front's port; stops it afterwards, also when
    /// `body` throws. For tests and embedding.
    public func withRunning<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(services: services { continuation.yield($0) }, logger: logger)
        let result: Result<T, any Error> = await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return .failure(CancellationError()) }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(port))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            do {
                try await tasks.waitForAll()
            } catch {
                return .failure(error)
            }
            return result
        }
        try await shutdown()
        return try result.get()
    }

    /// The pools and objectives requests are routed by; both change while running in `starling up`.
    struct Routing: Sendable {
        var pools: [EndpointPool]
        var objectives: ObjectiveTable
    }

    /// The pools, in order.
    var pools: [EndpointPool] { routing.withLock { $0.pools } }

    var objectives: ObjectiveTable { routing.withLock { $0.objectives } }

    /// Replaces a pool's endpoints: new ones are added, missing ones drain (no new requests; dropped once their
    /// requests finish).
    public func setEndpoints(pool name: String, _ addresses: [EndpointAddress]) {
        guard let pool = pools.first(where: { $0.name == name }) else { return }
        let wanted = Dictionary(addresses.map { ($0.id, $0.baseURL) }, uniquingKeysWith: { a, _ in a })
        pool.update { $0.setEndpoints(wanted) }
    }

    /// Makes the discovered pools what `wanted` says: new pools are created, existing ones get their models and
    /// endpoints updated, pools no longer wanted drain their endpoints and are dropped. Pools and objectives from
    /// the configuration stay as configured, ahead of discovered ones of the same name.
    public func syncPools(_ wanted: [RoutedPool], objectives: ObjectiveTable) {
        let configured = Set(configuration.pools.map(\.settings.name))
        var created: [EndpointPool] = []
        let existing = pools
        created += existing.filter { configured.contains($0.name) }
        for plan in wanted where !configured.contains(plan.name) {
            let pool: EndpointPool
            if let found = existing.first(where: { $0.name == plan.name }) {
                pool = found
            } else {
                var settings = PoolSettings(name: plan.name)
                settings.models = plan.models
                pool = EndpointPool(settings: settings)
            }
            let endpoints = Dictionary(plan.endpoints.map { ($0.id, $0.baseURL) }, uniquingKeysWith: { a, _ in a })
            pool.update { state in
                state.setModels(plan.models)
                if let timeout = plan.holdTimeout {
                    state.setHolding(timeout: timeout, maxHeld: plan.maxHeld ?? state.settings.maxHeld)
                }
                state.setEndpoints(endpoints)
            }
            created.append(pool)
        }
        let names = Set(created.map(\.name))
        for gone in existing where !names.contains(gone.name) { gone.update { $0.setEndpoints([:]) } }
        let merged = configuration.objectives.overlaying(objectives)
        routing.withLock { routing in
            routing.pools = created
            routing.objectives = merged
        }
    }

    /// The load of the pool named `name` (for an autoscaler in the same process), nil when there is none.
    public func load(pool name: String) -> PoolLoad? {
        pools.first { $0.name == name }?.read { $0.load }
    }

    /// A fresh request id.
    func newRequestID() -> String {
        "gw-\(instance)-\(String(counter.add(1, ordering: .relaxed).newValue, radix: 36))"
    }

    /// The pool that serves `model`: the first that lists it, else nil.
    func pool(serving model: String) -> EndpointPool? {
        pools.first { $0.read { $0.mayServe(model) } }
    }

    /// A random draw for traffic splits.
    func resolve(model: String, objective: String?) -> ObjectiveTable.Resolution {
        let objectives = self.objectives
        return random.withLock { objectives.resolve(model: model, objective: objective, random: &$0) }
    }
}
