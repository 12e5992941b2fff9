import CoreMetrics
import Prometheus
import StarlingServerLimits
import Synchronization

/// The gateway's own Prometheus metrics, recorded through swift-metrics into a registry of its own (so several
/// gateways in one process, as in tests, do not mix). Labels are bounded: models the pools serve (others are
/// `unknown`), objective names from the configuration, status codes, pool and endpoint names. Instruments are
/// kept once made: making one looks it up in the registry under a lock, which costs more than recording.
final class GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    private struct Key: Hashable {
        var label: String
        var values: [String]
    }

    private let counters = Mutex<[Key: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[Key: CoreMetrics.Timer]>([:])
    /// Each pool's arrivals and completions at the last export, so the counters grow by what came since.
    private let exportedCounts = Mutex<[String: (arrivals: Int, completions: Int)]>([:])

    static let requests = "starling_gateway_requests_total"
    /// The `code` of a request whose client closed its connection before the answer was complete (nginx's 499).
    static let clientClosed = 499
    static let ttft = "starling_gateway_time_to_first_token_seconds"
    static let interToken = "starling_gateway_inter_token_latency_seconds"
    static let e2e = "starling_gateway_request_duration_seconds"
    static let picks = "starling_gateway_endpoint_picks_total"
    static let shed = "starling_gateway_shed_total"
    static let queued = "starling_gateway_queued_total"
    static let retries = "starling_gateway_retries_total"
    static let scrapeErrors = "starling_gateway_scrape_errors_total"
    static let waiting = "starling_gateway_queue_length"
    static let endpoints = "starling_gateway_endpoints"
    static let poolRunning = "starling_gateway_pool_requests_running"
    static let poolServerWaiting = "starling_gateway_pool_requests_waiting"
    static let poolKVCache = "starling_gateway_pool_kv_cache_usage"
    static let poolArrivals = "starling_gateway_pool_arrivals_total"
    static let poolCompletions = "starling_gateway_pool_completions_total"
    static let connectionLimits = "starling_gateway_connection_limit_total"

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(80),
            .milliseconds(160), .milliseconds(320), .milliseconds(640), .milliseconds(1280), .milliseconds(2560),
            .milliseconds(5120), .milliseconds(10240), .milliseconds(20480), .milliseconds(40960),
        ]
        let gaps: [Duration] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(15),
            .milliseconds(20), .milliseconds(30), .milliseconds(50), .milliseconds(75), .milliseconds(100),
            .milliseconds(200), .milliseconds(500), .seconds(1), .seconds(2),
        ]
        factory.durationHistogramBuckets = [Self.ttft: latency, Self.e2e: latency, Self.interToken: gaps]
        self.factory = factory
    }

    func request(model: String, objective: String?, status: Int) {
        counter(Self.requests, [("model", model), ("objective", objective ?? ""), ("code", "\(status)")]).increment()
    }

    func timeToFirstToken(model: String, _ duration: Duration) {
        timer(Self.ttft, [("model", model)]).recordNanoseconds(
            duration.nanoseconds)
    }

    /// Records a request's inter-token gaps through one instrument (a lookup per request, not per token).
    func interToken(model: String, _ durations: [Duration]) {
        guard !durations.isEmpty else { return }
        let gaps = timer(Self.interToken, [("model", model)])
        for duration in durations { gaps.recordNanoseconds(duration.nanoseconds) }
    }

    func endToEnd(model: String, _ duration: Duration) {
        timer(Self.e2e, [("model", model)]).recordNanoseconds(duration.nanoseconds)
    }

    func picked(pool: String, endpoint: String) {
        counter(Self.picks, [("pool", pool), ("endpoint", endpoint)]).increment()
    }

    func shed(pool: String, criticality: Criticality) {
        counter(Self.shed, [("pool", pool), ("criticality", criticality.rawValue)])
            .increment()
    }

    func queued(pool: String, criticality: Criticality) {
        counter(Self.queued, [("pool", pool), ("criticality", criticality.rawValue)]).increment()
    }

    /// A connection closed or refused by a limit (`reason`: header_timeout, body_timeout, idle_timeout,
    /// too_many_connections).
    func connectionLimit(_ event: ConnectionLimitEvent) {
        counter(Self.connectionLimits, [("reason", event.rawValue)]).increment()
    }

    func retried(pool: String) {
        counter(Self.retries, [("pool", pool)]).increment()
    }

    func scrapeError(pool: String, endpoint: String) {
        counter(Self.scrapeErrors, [("pool", pool), ("endpoint", endpoint)])
            .increment()
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        Self.kept(in: counters, label, dimensions) { CoreMetrics.Counter(label: $0, dimensions: $1, factory: factory) }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        Self.kept(in: timers, label, dimensions) { CoreMetrics.Timer(label: $0, dimensions: $1, factory: factory) }
    }

    /// The instrument for `label` and `dimensions` from `cache`, made and kept on first use.
    private static func kept<Instrument: Sendable>(
        in cache: borrowing Mutex<[Key: Instrument]>, _ label: String, _ dimensions: [(String, String)],
        make: (String, [(String, String)]) -> Instrument
    ) -> Instrument {
        let key = Key(label: label, values: dimensions.map(\.1))
        if let existing = cache.withLock({ $0[key] }) { return existing }
        let made = make(label, dimensions)
        cache.withLock { $0[key] = made }
        return made
    }

    /// Gauges read from the pools just before an export.
    func observe(pool: String, waiting: [Criticality: Int], healthy: Int, unhealthy: Int, draining: Int) {
        for criticality in Criticality.allCases {
            Gauge(
                label: Self.waiting, dimensions: [("pool", pool), ("criticality", criticality.rawValue)],
                factory: factory
            ).record(waiting[criticality] ?? 0)
        }
        for (state, count) in [("healthy", healthy), ("unhealthy", unhealthy), ("draining", draining)] {
            Gauge(label: Self.endpoints, dimensions: [("pool", pool), ("state", state)], factory: factory).record(count)
        }
    }

    /// A pool's autoscaling signals, for KEDA or an HPA on external metrics: requests running and waiting at its
    /// model servers (their latest scrapes, summed) and their mean KV-cache usage, and the requests it has received
    /// and finished (counters, for rates). Requests held at the gateway are `starling_gateway_queue_length`.
    func observe(pool: String, load: PoolLoad) {
        let (arrived, completed) = exportedCounts.withLock { exported in
            let before = exported[pool] ?? (0, 0)
            exported[pool] = (load.arrivals, load.completions)
            // A pool made again (its routes replaced) counts from zero: all of its count is new.
            return (
                load.arrivals >= before.arrivals ? load.arrivals - before.arrivals : load.arrivals,
                load.completions >= before.completions ? load.completions - before.completions : load.completions
            )
        }
        counter(Self.poolArrivals, [("pool", pool)]).increment(by: arrived)
        counter(Self.poolCompletions, [("pool", pool)]).increment(by: completed)
        let scrapes = load.endpoints.values
        let running = scrapes.reduce(0) { $0 + ($1.running ?? 0) }
        let waiting = scrapes.reduce(0) { $0 + ($1.waiting ?? 0) }
        let kv = scrapes.compactMap(\.kvCacheUsage)
        Gauge(label: Self.poolRunning, dimensions: [("pool", pool)], factory: factory).record(running)
        Gauge(label: Self.poolServerWaiting, dimensions: [("pool", pool)], factory: factory).record(waiting)
        Gauge(label: Self.poolKVCache, dimensions: [("pool", pool)], factory: factory).record(
            kv.isEmpty ? 0 : kv.reduce(0, +) / Double(kv.count))
    }

    /// The Prometheus text exposition.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
