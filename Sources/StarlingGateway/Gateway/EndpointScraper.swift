import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Reads every endpoint's `/metrics` at the scrape interval and its `/v1/models` now and then, one loop per
/// endpoint so a slow one delays nobody else (`EndpointScrapeLoop`, callbacks on an event loop); and ticks the
/// pools so waiting requests are served or timed out.
struct EndpointScraper: Service {
    let gateway: Gateway

    func run() async throws {
        let running = RunningLoops(group: gateway.eventLoopGroup)
        let interval = gateway.configuration.scrapeInterval
        // The tick runs on an event loop too: `Task.sleep` would wake a thread of the global pool twenty times a
        // second through Dispatch's timer thread.
        let tickLoop = gateway.eventLoopGroup.next()
        await cancelWhenGracefulShutdown {
            await withTaskExecutorPreference(EventLoopTaskExecutor(tickLoop)) {
                await tick(every: interval, on: tickLoop, running: running)
            }
        }
        gateway.logger.debug("gateway scraper stopped")
    }

    private func tick(every interval: Duration, on tickLoop: any EventLoop, running: RunningLoops) async {
        while !Task.isCancelled {
            gateway.connections.closeExpired()
            for pool in gateway.pools {
                pool.tick()
                for id in pool.read({ Array($0.endpoints.keys) }) {
                    running.startIfNeeded(key: pool.name + "\u{0}" + id) { loop, onFinish in
                        EndpointScrapeLoop(gateway: gateway, pool: pool, id: id, loop: loop, onFinish: onFinish)
                    }
                }
            }
            try? await Self.sleep(on: tickLoop, until: Self.nextTick(after: .now(), every: interval))
        }
        await running.stopAll()
    }

    /// The first multiple of `interval` (counted from the loops' clock's zero) after `now`. Every scrape loop and
    /// the tick wait for the next one, so they wake the event loop together, once per interval, rather than
    /// each at a time of its own (each wake-up costs more than the scrape's own work); a round that took longer
    /// than the interval waits for the next tick.
    static func nextTick(after now: NIODeadline, every interval: Duration) -> NIODeadline {
        let step = UInt64(max(interval.nanoseconds, 1))
        let (ticks, overflow) = (now.uptimeNanoseconds / step + 1).multipliedReportingOverflow(by: step)
        return overflow ? .distantFuture : .uptimeNanoseconds(ticks)
    }

    /// Sleeps on the loop's own timer: `Task.sleep` would wake a thread of the global pool to resume the task
    /// back on the loop, twenty times a second per endpoint.
    static func sleep(on loop: any EventLoop, until deadline: NIODeadline) async throws {
        let wake = loop.scheduleTask(deadline: deadline) {}
        try await withTaskCancellationHandler {
            try await wake.futureResult.get()
        } onCancel: {
            wake.cancel()
        }
    }

    /// The longest a scrape or a model list may take.
    static let requestTimeout = TimeAmount.seconds(2)
    /// Largest `/metrics` or `/v1/models` answer read; a larger one counts as a failure.
    static let maxAnswerBytes = 16 << 20

    /// The entries of an OpenAI model list; nil when it is not one.
    static func parseModels(_ data: Data) -> [ServedModel]? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let entries = object["data"] as? [[String: Any]]
        else { return nil }
        return entries.compactMap { entry in
            guard let id = entry["id"] as? String else { return nil }
            return ServedModel(
                id: id, parent: entry["parent"] as? String,
                maxModelLength: (entry["max_model_len"] as? NSNumber)?.intValue)
        }
    }
}

/// The scrape loops that run, one per pool and endpoint, each on an event loop of its own choosing.
private final class RunningLoops: Sendable {
    private struct Entry: Sendable {
        let scrape: NIOLoopBoundBox<EndpointScrapeLoop>
        let finished: EventLoopFuture<Void>
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let group: any EventLoopGroup

    init(group: any EventLoopGroup) { self.group = group }

    /// Starts the loop `make` makes for `key` unless one runs; a loop that ends by itself (its endpoint left the
    /// pool) is forgotten, so a later tick starts another if the endpoint comes back.
    func startIfNeeded(
        key: String, make: (any EventLoop, @escaping @Sendable () -> Void) -> EndpointScrapeLoop
    ) {
        guard entries.withLock({ $0[key] == nil }) else { return }
        let loop = group.next()
        let finished = loop.makePromise(of: Void.self)
        let scrape = NIOLoopBoundBox.makeBoxSendingValue(
            make(loop) { [self] in
                entries.withLock { entries in
                    if entries[key]?.finished == finished.futureResult { entries[key] = nil }
                }
                finished.succeed()
            }, eventLoop: loop)
        entries.withLock { $0[key] = Entry(scrape: scrape, finished: finished.futureResult) }
        loop.execute { scrape.value.start() }
    }

    /// Stops every loop and returns once all have ended.
    func stopAll() async {
        let all = entries.withLock { entries in
            defer { entries = [:] }
            return Array(entries.values)
        }
        for entry in all { entry.finished.eventLoop.execute { entry.scrape.value.stop() } }
        for entry in all { try? await entry.finished.get() }
    }
}
