import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Reads every endpoint's `/metrics` at the scrape interval and its `/v1/models` now and then, one loop per
/// endpoint so a slow one delays nobody else; and ticks the pools so waiting requests are served or timed out.
struct EndpointScraper: Service {
    let gateway: Gateway

    func run() async throws {
        let running = RunningLoops()
        let interval = gateway.configuration.scrapeInterval
        // The tick runs on an event loop too: `Task.sleep` would wake a thread of the global pool twenty times a
        // second through Dispatch's timer thread.
        let tickLoop = MultiThreadedEventLoopGroup.singleton.next()
        await cancelWhenGracefulShutdown {
            await withTaskExecutorPreference(EventLoopTaskExecutor(tickLoop)) {
                await tick(every: interval, on: tickLoop, running: running)
            }
        }
        gateway.logger.debug("gateway scraper stopped")
    }

    private func tick(every interval: Duration, on tickLoop: any EventLoop, running: RunningLoops) async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                gateway.connections.closeExpired()
                gateway.scrapeConnections.closeExpired()
                for pool in gateway.pools {
                    pool.tick()
                    for id in pool.read({ Array($0.endpoints.keys) }) {
                        let key = pool.name + "\u{0}" + id
                        guard running.keys.withLock({ $0.insert(key).inserted }) else { continue }
                        // On one event loop with its connection: a scrape's awaits need no other thread.
                        let loop = MultiThreadedEventLoopGroup.singleton.next()
                        group.addTask(executorPreference: EventLoopTaskExecutor(loop)) {
                            await scrapeLoop(pool, id, on: loop)
                            _ = running.keys.withLock { $0.remove(key) }
                        }
                    }
                }
                try? await Self.sleep(on: tickLoop, for: interval)
            }
        }
    }

    private func scrapeLoop(_ pool: EndpointPool, _ id: String, on loop: any EventLoop) async {
        let configuration = gateway.configuration
        let clock = ContinuousClock()
        var modelsDue = clock.now
        while !Task.isCancelled {
            guard let endpoint = pool.read({ $0.endpoints[id] }) else { return }
            let started = clock.now
            if let metrics = await scrape(id, on: loop) {
                pool.update { $0.recordScrape(id, metrics, at: clock.now) }
                // A newly loaded adapter is running before the next models refresh would list it.
                if let running = metrics.runningAdapters, !running.isEmpty,
                    !running.isSubset(of: Set((endpoint.models ?? []).map(\.id)))
                {
                    modelsDue = clock.now
                }
            } else {
                pool.update { $0.recordScrapeFailure(id) }
                gateway.metrics.scrapeError(pool: pool.name, endpoint: id)
            }
            if clock.now >= modelsDue || endpoint.models == nil {
                if let models = await readModels(id, on: loop) {
                    pool.update { $0.recordModels(id, models) }
                    modelsDue = clock.now + configuration.modelsInterval
                }
            }
            try? await Self.sleep(on: loop, for: configuration.scrapeInterval - (clock.now - started))
        }
    }

    /// Sleeps on the loop's own timer: `Task.sleep` would wake a thread of the global pool to resume the task
    /// back on the loop, twenty times a second per endpoint.
    static func sleep(on loop: any EventLoop, for duration: Duration) async throws {
        guard duration > .zero else { return }
        let wake = loop.scheduleTask(in: .nanoseconds(Int64(duration.nanoseconds))) {}
        try await withTaskCancellationHandler {
            try await wake.futureResult.get()
        } onCancel: {
            wake.cancel()
        }
    }

    /// The endpoint's load, or nil when the scrape failed. A server without `/metrics` (404) is reachable but
    /// reports nothing: every figure stays unknown. The text is parsed as it arrives.
    private func scrape(_ endpoint: String, on loop: any EventLoop) async -> EndpointMetrics? {
        var parser = EndpointMetrics.Parser()
        do {
            let status = try await gateway.scrapeConnections.get(
                EndpointMetrics.scrapePath, from: endpoint, on: loop, timeout: Self.requestTimeout,
                limit: Self.maxAnswerBytes
            ) { parser.feed($0.readableBytesView) }
            if status == .notFound { return EndpointMetrics() }
            return status == .ok ? parser.finish() : nil
        } catch {
            return nil
        }
    }

    private func readModels(_ endpoint: String, on loop: any EventLoop) async -> [ServedModel]? {
        var body = ByteBuffer()
        do {
            let status = try await gateway.scrapeConnections.get(
                "/v1/models", from: endpoint, on: loop, timeout: Self.requestTimeout, limit: Self.maxAnswerBytes
            ) { chunk in
                var chunk = chunk
                body.writeBuffer(&chunk)
            }
            return status == .ok ? Self.parseModels(Data(body.readableBytesView)) : nil
        } catch {
            return nil
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

/// The endpoints whose scrape loop runs, shared by the loop starter and the loops.
private final class RunningLoops: Sendable {
    let keys = Mutex<Set<String>>([])
}
