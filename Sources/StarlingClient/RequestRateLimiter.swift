import Logging
import Synchronization

/// How fast a client may send requests: `qps` a second on average, `burst` at once.
public struct RateLimit: Sendable, Equatable {
    public var qps: Double
    public var burst: Int

    public init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = burst
    }

    /// What Starling's long-running components use unless told otherwise: above client-go's 5/10 and
    /// kube-controller-manager's 20/30, as one operator runs every controller and creates pods in slow-start
    /// batches; low enough that a reconcile storm over thousands of objects cannot flood the API server.
    public static let componentDefault = RateLimit(qps: 100, burst: 200)
}

/// Holds a client's requests to its `RateLimit` (`TokenBucket` decides; this only sleeps), so a controller
/// working through a long queue paces itself instead of flooding the API server.
final class RequestRateLimiter: Sendable {
    private let bucket: Mutex<TokenBucket>
    private let origin = ContinuousClock.now
    private let logger: Logger

    init(_ limit: RateLimit, logger: Logger) {
        bucket = Mutex(TokenBucket(qps: limit.qps, burst: limit.burst))
        self.logger = logger
    }

    /// Waits for a token; throws `CancellationError` when the task is cancelled meanwhile.
    func wait(for what: @autoclosure () -> String) async throws {
        let now = ContinuousClock.now - origin
        let delay = bucket.withLock { $0.take(now: now) }
        guard delay > .zero else { return }
        if delay >= .seconds(1) {
            // As client-go says, so a slow controller is explained by its own limit, not the server.
            logger.info(
                "waiting for client-side throttling",
                metadata: ["kube.request": "\(what())", "throttle.wait": "\(delay)"])
        }
        try await Task.sleep(for: delay)
    }
}
