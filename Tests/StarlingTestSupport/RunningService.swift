import Logging
import ServiceLifecycle

/// A service running in a group of its own until it is stopped, gracefully, as SIGTERM stops it in production.
///
/// Tests stop servers this way rather than by cancelling their task: cancelling a NIO async server can trap on a
/// connection it accepted but had not yet served ("Deinited NIOAsyncWriter without calling finish()",
/// apple/swift-nio#3481), which takes the whole test process down.
public struct RunningService: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    /// Starts `service`.
    public static func start(_ service: some Service, label: String = "test.service") -> RunningService {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let group = ServiceGroup(services: [service], logger: logger)
        return RunningService(group: group, task: Task { try await group.run() })
    }

    /// Shuts the service down gracefully and waits until it has; cancelled meanwhile, it cancels the service.
    public func stop() async {
        await group.triggerGracefulShutdown()
        let task = self.task
        _ = await withTaskCancellationHandler {
            await task.result
        } onCancel: {
            task.cancel()
        }
    }

    /// Starts a graceful shutdown without waiting for it, for a `defer`.
    public func stopSoon() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }
}
