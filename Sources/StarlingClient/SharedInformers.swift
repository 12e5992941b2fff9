import Logging
import ServiceLifecycle
import StarlingAPI

/// One informer per kind (and namespace and label selector) for a whole process, shared by every component that
/// asks, so a process lists and watches each kind once and holds one cache of it — not one per consumer.
///
/// `informer(_:)` hands out the shared instance, creating it on first use; `run()` runs every informer, including
/// those asked for after it started, until cancelled.
public actor SharedInformers: Service {
    let client: any KubeAPI
    let logger: Logger
    private var informers: [Key: any Sendable] = [:]
    private let starts: AsyncStream<@Sendable () async -> Void>
    private let startContinuation: AsyncStream<@Sendable () async -> Void>.Continuation

    struct Key: Hashable {
        var kind: String
        var namespace: String?
        var labelSelector: String?
    }

    public init(client: any KubeAPI, logger: Logger = Logger(label: "starling.informers")) {
        self.client = client
        self.logger = logger
        (starts, startContinuation) = AsyncStream.makeStream()
    }

    /// The shared informer of `type`; components wanting a subset filter its cache (`list(namespace:selector:)`)
    /// rather than asking for a narrower informer, so each kind is cached once.
    public func informer<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, labelSelector: String? = nil
    ) -> Informer<T> {
        let key = Key(kind: T.descriptor.description, namespace: namespace, labelSelector: labelSelector)
        if let existing = informers[key] as? Informer<T> { return existing }
        let informer = Informer<T>(client: client, namespace: namespace, labelSelector: labelSelector, logger: logger)
        informers[key] = informer
        startContinuation.yield { await informer.run() }
        return informer
    }

    /// How many informers exist (a test checks that consumers share them).
    public var count: Int { informers.count }

    /// Runs every informer until cancelled or, run in a `ServiceGroup`, until graceful shutdown.
    public func run() async {
        await cancelWhenGracefulShutdown { await self.runInformers() }
    }

    private func runInformers() async {
        let starts = self.starts
        await withDiscardingTaskGroup { group in
            for await start in starts {
                group.addTask { await start() }
            }
        }
    }

    /// Stops accepting informers; `run()` returns once the running ones end (on cancellation).
    public func finish() { startContinuation.finish() }
}
