import Logging
import ServiceLifecycle

/// Runs a reconcile function over keys from a work queue with a fixed number of workers, retrying failures with
/// backoff, until graceful shutdown.
public struct ControllerLoop<Key: Hashable & Sendable>: Sendable {
    public let queue: WorkQueue<Key>
    let workers: Int
    let logger: Logger
    let reconcile: @Sendable (Key) async throws -> Void

    public init(
        queue: WorkQueue<Key>, workers: Int = 2, logger: Logger,
        reconcile: @escaping @Sendable (Key) async throws -> Void
    ) {
        self.queue = queue
        self.workers = workers
        self.logger = logger
        self.reconcile = reconcile
    }

    /// Processes keys until the queue shuts down.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    while let key = await queue.next() {
                        do {
                            try await reconcile(key)
                            await queue.forget(key)
                        } catch {
                            logger.debug(
                                "reconcile failed; will retry", metadata: ["key": "\(key)", "error": "\(error)"])
                            await queue.addRateLimited(key)
                        }
                        await queue.done(key)
                    }
                }
            }
        }
    }
}
