import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Reads every endpoint's `/metrics` at the scrape interval and its `/v1/models` now and then, one loop per
/// endpoint so a slow one delays nobody else; and ticks the pools so waiting requests are served or timed out.
struct EndpointScraper: Service {
    let gateway: Gateway

    func run() async throws {
        let running = RunningLoops()
        let interval = gateway.configuration.scrapeInterval
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    gateway.connections.closeExpired()
                    for pool in gateway.pools {
                        pool.tick()
                        for id in pool.read({ Array($0.endpoints.keys) }) {
                            let key = pool.name + "\u{0}" + id
                            guard running.keys.withLock({ $0.insert(key).inserted }) else { continue }
                            group.addTask {
                                await scrapeLoop(pool, id)
                                _ = running.keys.withLock { $0.remove(key) }
                            }
                        }
                    }
                    try? await Task.sleep(for: interval)
                }
            }
        }
        gateway.logger.debug("gateway scraper stopped")
    }

    private func scrapeLoop(_ pool: EndpointPool, _ id: String) async {
        let configuration = gateway.configuration
        let clock = ContinuousClock()
        var modelsDue = clock.now
        while !Task.isCancelled {
            guard let endpoint = pool.read({ $0.endpoints[id] }) else { return }
            let started = clock.now
            if let metrics = await scrape(endpoint.baseURL) {
                pool.update { $0.recordScrape(id, metrics, at: clock.now) }
                // A newly loaded adapter is running before the next models refresh would list it.
                let listed = Set((endpoint.models ?? []).map(\.id))
                if let running = metrics.runningAdapters, !running.isSubset(of: listed) { modelsDue = clock.now }
            } else {
                pool.update { $0.recordScrapeFailure(id) }
                gateway.metrics.scrapeError(pool: pool.name, endpoint: id)
            }
            if clock.now >= modelsDue || endpoint.models == nil {
                if let models = await readModels(endpoint.baseURL) {
                    pool.update { $0.recordModels(id, models) }
                    modelsDue = clock.now + configuration.modelsInterval
                }
            }
            try? await clock.sleep(until: started + configuration.scrapeInterval)
        }
    }

    /// The endpoint's load, or nil when the scrape failed. A server without `/metrics` (404) is reachable but
    /// reports nothing: every figure stays unknown.
    private func scrape(_ baseURL: String) async -> EndpointMetrics? {
        do {
            let response = try await gateway.client.execute(
                HTTPClientRequest(url: baseURL + "/metrics"), timeout: .seconds(2), logger: nil)
            if response.status == .notFound { return EndpointMetrics() }
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: 16 << 20)
            return EndpointMetrics(prometheusText: body.readableBytesView)
        } catch {
            return nil
        }
    }

    private func readModels(_ baseURL: String) async -> [ServedModel]? {
        do {
            let response = try await gateway.client.execute(
                HTTPClientRequest(url: baseURL + "/v1/models"), timeout: .seconds(2), logger: nil)
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: 16 << 20)
            return Self.parseModels(Data(body.readableBytesView))
        } catch {
            return nil
        }
    }

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
