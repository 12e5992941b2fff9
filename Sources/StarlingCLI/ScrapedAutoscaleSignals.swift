import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingAPI
import StarlingClient
import StarlingControllers
import StarlingGateway

/// The autoscaler's signals on a cluster, where the gateways run apart from the operator: each Ready leader's
/// vLLM metrics read at its pod IP, and from every gateway replica's `/metrics` the requests it holds for the
/// service and its arrivals and completions (`GatewayPoolSignals`), read once per autoscaler pass for all services.
actor ScrapedAutoscaleSignals: AutoscaleSignalSource {
    let client: HTTPClient
    /// The `/metrics` URLs of the gateways: their pods' (from the operator's cache) and any given by address.
    let gatewayMetricsURLs: @Sendable () async -> [String]
    /// The gateways' held requests and counts per pool, and when they were last read.
    private var gateways = GatewayPoolSignals()
    private var gatewaysReadAt: ContinuousClock.Instant?
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
        // The autoscaler asks every half second per service: one reading serves every service of a pass.
        if gatewaysReadAt.map({ now - $0 >= .milliseconds(250) }) ?? true {
            gateways.record(await readGateways())
            gatewaysReadAt = now
        }
        let pool = RoutedPool.key(namespace: service.metadata.namespace, name: service.metadata.nameOrEmpty)
        let heldHere = gateways.held[pool] ?? 0
        let uid = service.metadata.uid ?? pool
        if heldHere > 0 || replicas.values.contains(where: { $0.running > 0 || $0.waiting > 0 }) {
            lastBusy[uid] = now
        }
        let busy = lastBusy[uid] == now
        return ObservedLoad(
            replicas: replicas, held: heldHere, idleFor: busy ? nil : now - (lastBusy[uid] ?? started),
            arrivals: gateways.arrivals[pool], completions: gateways.completions[pool])
    }

    /// Each answering gateway's exposition, by URL.
    func readGateways() async -> [String: String] {
        let urls = await gatewayMetricsURLs()
        return await withTaskGroup(of: (String, String?).self) { group in
            for url in urls {
                group.addTask { [client] in (url, await Self.exposition(url, client: client)) }
            }
            var texts: [String: String] = [:]
            for await (url, text) in group { texts[url] = text }
            return texts
        }
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

    static func exposition(_ url: String, client: HTTPClient) async -> String? {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(1))
            guard response.status == .ok else { return nil }
            return String(buffer: try await response.body.collect(upTo: 16 << 20))
        } catch {
            return nil
        }
    }
}
