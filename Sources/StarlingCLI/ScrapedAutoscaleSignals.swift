import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingAPI
import StarlingClient
import StarlingControllers
import StarlingGateway

/// The autoscaler's signals on a cluster, where the gateways run apart from the operator: each Ready leader's
/// vLLM metrics read at its pod IP, and the requests every gateway replica holds for the service (their
/// `starling_gateway_queue_length`, summed over the gateway pods, read at most once a second for all services).
actor ScrapedAutoscaleSignals: AutoscaleSignalSource {
    let client: HTTPClient
    /// The `/metrics` URLs of the gateways: their pods' (from the operator's cache) and any given by address.
    let gatewayMetricsURLs: @Sendable () async -> [String]
    /// Held requests per pool, summed over the gateways, and when that was read.
    private var held: [String: Int] = [:]
    private var heldReadAt: ContinuousClock.Instant?
    /// When each service (by uid) was last seen with a request running, waiting or held.
    private var lastBusy: [String: ContinuousClock.Instant] = [:]
    private let started = ContinuousClock.now

    init(client: HTTPClient, gatewayMetricsURLs: @escaping @Sendable () async -> [String]) {
        self.client = client
        self.gatewayMetricsURLs = gatewayMetricsURLs
    }

    /// The `/metrics` URLs of gateway pods that are Ready and not being deleted.
    static func metricsURLs(of pods: [Pod]) -> [String] {
        pods.compactMap { pod in
            guard pod.isReady, pod.metadata.deletionTimestamp == nil, let ip = pod.status?.podIP,
                let port = pod.servingPort
            else { return nil }
            return "http://\(ip.contains(":") ? "[\(ip)]" : ip):\(port)/metrics"
        }
    }

    func load(of service: ModelService, endpoints: [String]) async -> ObservedLoad? {
        let path = service.spec.server.metricsPath ?? ServerSpec.defaultMetricsPath
        var replicas: [String: AutoscaleSignals.Replica] = [:]
        await withTaskGroup(of: (String, EndpointMetrics?).self) { group in
            for endpoint in endpoints {
                group.addTask { [client] in (endpoint, await Self.scrape("http://\(endpoint)\(path)", client: client)) }
            }
            for await (endpoint, metrics) in group {
                guard let m = metrics else { continue }
                replicas[endpoint] = AutoscaleSignals.Replica(
                    waiting: m.waiting ?? 0, running: m.running ?? 0, kvCache: m.kvCacheUsage ?? 0)
            }
        }
        let now = ContinuousClock.now
        if heldReadAt.map({ now - $0 >= .seconds(1) }) ?? true {
            held = await readGateways()
            heldReadAt = now
        }
        let pool = RoutedPool.key(namespace: service.metadata.namespace, name: service.metadata.nameOrEmpty)
        let heldHere = held[pool] ?? 0
        let uid = service.metadata.uid ?? pool
        if heldHere > 0 || replicas.values.contains(where: { $0.running > 0 || $0.waiting > 0 }) {
            lastBusy[uid] = now
        }
        let busy = lastBusy[uid] == now
        return ObservedLoad(
            replicas: replicas, held: heldHere, idleFor: busy ? nil : now - (lastBusy[uid] ?? started))
    }

    /// Held requests per pool over every gateway.
    func readGateways() async -> [String: Int] {
        var total: [String: Int] = [:]
        let urls = await gatewayMetricsURLs()
        await withTaskGroup(of: [String: Int].self) { group in
            for url in urls {
                group.addTask { [client] in await Self.heldRequests(url, client: client) }
            }
            for await counts in group { total.merge(counts, uniquingKeysWith: +) }
        }
        return total
    }

    static func scrape(_ url: String, client: HTTPClient) async -> EndpointMetrics? {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(1))
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: 16 << 20)
            return EndpointMetrics(prometheusText: body.readableBytesView)
        } catch {
            return nil
        }
    }

    static func heldRequests(_ url: String, client: HTTPClient) async -> [String: Int] {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(1))
            guard response.status == .ok else { return [:] }
            return Self.heldRequests(inExposition: String(buffer: try await response.body.collect(upTo: 16 << 20)))
        } catch {
            return [:]
        }
    }

    /// `starling_gateway_queue_length{pool="p",criticality="c"} n` summed per pool.
    static func heldRequests(inExposition text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("starling_gateway_queue_length{") {
            guard let poolStart = line.range(of: #"pool=""#), let close = line.lastIndex(of: "}"),
                let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
            else { continue }
            let rest = line[poolStart.upperBound...]
            guard let quote = rest.firstIndex(of: "\"") else { continue }
            counts[String(rest[..<quote]), default: 0] += Int(value)
        }
        return counts
    }
}
