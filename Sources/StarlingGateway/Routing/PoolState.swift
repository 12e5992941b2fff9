/// Everything a pool knows, and every routing decision it makes, as one value: endpoints with their scrapes and
/// in-flight counts, the prefix index and session table, and the requests waiting at the gateway. No I/O and no
/// clock of its own (times are passed in), so it is tested table-driven; `EndpointPool` puts it behind a lock.
public struct PoolState: Sendable {
    /// One endpoint's record.
    public struct Endpoint: Sendable {
        public var id: String
        public var baseURL: String
        public var metrics: EndpointMetrics?
        public var scrapedAt: ContinuousClock.Instant?
        public var inFlight = 0
        public var inFlightAtScrape = 0
        /// False after failed scrapes or a refused connection, until a scrape succeeds.
        public var healthy = true
        public var failures = 0
        /// Going away: gets no new requests, finishes the ones in flight, then is dropped.
        public var draining = false
        /// From `/v1/models`; nil until read.
        public var models: [ServedModel]?
        /// Uncached prompt tokens of the requests sent here that have no first token yet.
        public var pendingPrefill = 0
        /// The waiting figures of up to two scrapes before `metrics`, oldest first, each within `staleAfter` of the
        /// next (a longer gap starts afresh).
        public var earlierWaiting: [Double] = []

        func serves(_ model: String) -> Bool { models?.contains { $0.id == model } ?? true }
    }

    /// A request asking for an endpoint.
    public struct Ask: Sendable {
        public var model: String
        public var criticality: Criticality
        /// The prompt's block hashes (empty when the profile does not score prefixes).
        public var hashes: [UInt64]
        /// The prompt's length in tokens (0 when the profile does not read it) and the block size of `hashes`.
        public var promptTokens: Int
        public var blockSize: Int
        public var session: String?
        /// Endpoints already tried (retries).
        public var exclude: Set<String>
        /// A retry skips admission: the request was admitted once.
        public var isRetry: Bool

        public init(
            model: String, criticality: Criticality = .standard, hashes: [UInt64] = [], promptTokens: Int = 0,
            blockSize: Int = 16, session: String? = nil, exclude: Set<String> = [], isRetry: Bool = false
        ) {
            self.model = model
            self.criticality = criticality
            self.hashes = hashes
            self.promptTokens = promptTokens
            self.blockSize = blockSize
            self.session = session
            self.exclude = exclude
            self.isRetry = isRetry
        }
    }

    /// An endpoint given to a request; hand it back with `release`.
    public struct Lease: Sendable, Equatable {
        public var endpoint: String
        /// Names the lease while its prompt counts as pending prefill.
        public var id: UInt64 = 0
        /// Prompt tokens the endpoint has to compute for it (its length less the prefix match).
        public var prefillTokens = 0
    }

    public enum Outcome: Sendable, Equatable {
        case lease(Lease)
        case wait
        case fail(Failure)
    }

    public enum Failure: Error, Sendable, Equatable {
        case shed(String)
        case noEndpoint(String)
        case queueTimeout(Duration)
    }

    struct Waiter: Sendable {
        var id: UInt64
        var ask: Ask
        var deadline: ContinuousClock.Instant
        /// Waiting because no endpoint serves the model yet, rather than for room.
        var forEndpoint: Bool
    }

    public private(set) var settings: PoolSettings
    public private(set) var endpoints: [String: Endpoint] = [:]
    private(set) var index: PrefixIndex
    private(set) var sessions: SessionTable
    private var pickState: PickState
    private(set) var waiting: [Criticality: [Waiter]] = [:]
    /// Leases whose prefill is pending: id → endpoint and tokens.
    private var pendingPrefills: [UInt64: (endpoint: String, tokens: Int)] = [:]
    private var nextLease: UInt64 = 0
    /// When the pool last got a request or finished one (`release` with a time).
    public private(set) var lastActivityAt: ContinuousClock.Instant?
    /// Requests the pool has received (retries not counted again) and finished, since it was made: an
    /// autoscaler's arrival and service rates.
    public private(set) var arrivals = 0
    public private(set) var completions = 0

    public init(settings: PoolSettings) {
        self.settings = settings
        index = PrefixIndex(capacity: settings.prefixIndexCapacity)
        sessions = SessionTable(capacity: settings.sessionCapacity)
        pickState = PickState(seed: settings.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    // MARK: Endpoints

    /// Sets the endpoints (id → base URL): new ones are added, missing ones drain, returning ones stop draining.
    public mutating func setEndpoints(_ wanted: [String: String]) {
        for (id, url) in wanted {
            if endpoints[id] == nil {
                endpoints[id] = Endpoint(id: id, baseURL: url)
            } else {
                endpoints[id]!.draining = false
            }
        }
        for id in endpoints.keys where wanted[id] == nil { drain(id) }
    }

    /// Sets the models the pool serves before its endpoints say (a pool that follows a ModelService).
    public mutating func setModels(_ models: [String]) { settings.models = models }

    /// Sets how long and how many requests the pool holds while no endpoint serves their model.
    public mutating func setHolding(timeout: Duration, maxHeld: Int) {
        settings.noEndpointWait = timeout
        settings.maxHeld = maxHeld
    }

    /// Stops sending to `id`; it is dropped once its requests are done.
    public mutating func drain(_ id: String) {
        guard endpoints[id] != nil else { return }
        endpoints[id]!.draining = true
        if endpoints[id]!.inFlight == 0 { endpoints[id] = nil }
    }

    public mutating func recordScrape(_ id: String, _ metrics: EndpointMetrics, at time: ContinuousClock.Instant) {
        guard var endpoint = endpoints[id] else { return }
        if let at = endpoint.scrapedAt, time - at <= settings.staleAfter, let waiting = endpoint.metrics?.waiting {
            endpoint.earlierWaiting = Array((endpoint.earlierWaiting + [waiting]).suffix(2))
        } else {
            endpoint.earlierWaiting = []
        }
        endpoint.metrics = metrics
        endpoint.scrapedAt = time
        endpoint.inFlightAtScrape = endpoint.inFlight
        endpoint.failures = 0
        endpoint.healthy = true
        endpoints[id] = endpoint
    }

    /// A failed scrape; after `unhealthyAfter` in a row the endpoint is taken out.
    public mutating func recordScrapeFailure(_ id: String) {
        guard var endpoint = endpoints[id] else { return }
        endpoint.failures += 1
        if endpoint.failures >= settings.unhealthyAfter { endpoint.healthy = false }
        endpoints[id] = endpoint
    }

    /// A refused or reset connection: taken out at once, back with the next good scrape.
    public mutating func recordConnectionFailure(_ id: String) {
        endpoints[id]?.healthy = false
    }

    public mutating func recordModels(_ id: String, _ models: [ServedModel]) {
        endpoints[id]?.models = models
    }

    /// The block size prompts are cut by: the first endpoint's report, else the default.
    public var blockSize: Int {
        endpoints.keys.sorted().lazy.compactMap { self.endpoints[$0]?.metrics?.blockSize }.first
            ?? settings.defaultBlockSize
    }

    /// Whether the pool may serve `model`: an endpoint lists it, an endpoint has not said, or the settings name it.
    public func mayServe(_ model: String) -> Bool {
        settings.models.contains(model) || endpoints.values.contains { !$0.draining && $0.serves(model) }
    }

    /// Every model the endpoints list (first listing wins for duplicates).
    public var servedModels: [ServedModel] {
        var seen: Set<String> = []
        var result: [ServedModel] = []
        for id in endpoints.keys.sorted() {
            for model in endpoints[id]!.models ?? [] where seen.insert(model.id).inserted { result.append(model) }
        }
        for name in settings.models where seen.insert(name).inserted { result.append(ServedModel(id: name)) }
        return result
    }

    func snapshot(_ endpoint: Endpoint, now: ContinuousClock.Instant) -> EndpointSnapshot {
        var fresh: EndpointMetrics?
        if let at = endpoint.scrapedAt, now - at <= settings.staleAfter { fresh = endpoint.metrics }
        return EndpointSnapshot(
            id: endpoint.id, metrics: fresh, inFlight: endpoint.inFlight, inFlightAtScrape: endpoint.inFlightAtScrape,
            pendingPrefillTokens: endpoint.pendingPrefill, earlierWaiting: fresh == nil ? [] : endpoint.earlierWaiting)
    }

    /// Fresh snapshots of the endpoints that may take `ask`, in id order.
    func candidates(for ask: Ask, now: ContinuousClock.Instant) -> [EndpointSnapshot] {
        endpoints.keys.sorted().compactMap { id in
            let endpoint = endpoints[id]!
            guard endpoint.healthy, !endpoint.draining, !ask.exclude.contains(id), endpoint.serves(ask.model) else {
                return nil
            }
            return snapshot(endpoint, now: now)
        }
    }

    /// Whether no endpoint that may serve `model` has room.
    public func isSaturated(model: String, now: ContinuousClock.Instant) -> Bool {
        settings.saturation.isSaturated(candidates(for: Ask(model: model), now: now))
    }

    // MARK: Requests

    /// Admits, queues or rejects a new request (`id` names it if it waits). A retry bypasses admission.
    public mutating func request(_ ask: Ask, id: UInt64, now: ContinuousClock.Instant) -> Outcome {
        lastActivityAt = now
        if !ask.isRetry { arrivals += 1 }
        let candidates = candidates(for: ask, now: now)
        if candidates.isEmpty {
            if ask.isRetry { return .fail(.noEndpoint("every endpoint that serves `\(ask.model)` failed")) }
            if heldForEndpoint >= settings.maxHeld {
                return .fail(
                    .shed(
                        "the gateway already holds \(settings.maxHeld) requests for `\(ask.model)` while no replica "
                            + "is ready, the most it holds"))
            }
            enqueue(Waiter(id: id, ask: ask, deadline: now + settings.noEndpointWait, forEndpoint: true))
            return .wait
        }
        if ask.isRetry { return .lease(dispatch(ask, candidates)) }
        let counts = waiting.mapValues(\.count)
        switch settings.admission.admit(
            ask.criticality, saturated: settings.saturation.isSaturated(candidates), waiting: counts)
        {
        case .dispatch: return .lease(dispatch(ask, candidates))
        case .reject(let reason): return .fail(.shed(reason))
        case .enqueue:
            enqueue(Waiter(id: id, ask: ask, deadline: now + settings.queueTimeout, forEndpoint: false))
            return .wait
        }
    }

    /// The lease's request produced its first token: its prompt is computed. Idempotent.
    public mutating func prefillDone(_ lease: Lease) {
        guard let pending = pendingPrefills.removeValue(forKey: lease.id) else { return }
        endpoints[pending.endpoint]?.pendingPrefill -= pending.tokens
    }

    /// Hands an endpoint back when its request is over (at `now`, which counts as activity for idle time).
    public mutating func release(_ lease: Lease, now: ContinuousClock.Instant? = nil) {
        if let now { lastActivityAt = now }
        completions += 1
        prefillDone(lease)
        guard var endpoint = endpoints[lease.endpoint] else { return }
        endpoint.inFlight -= 1
        if endpoint.draining && endpoint.inFlight <= 0 {
            endpoints[lease.endpoint] = nil
        } else {
            endpoints[lease.endpoint] = endpoint
        }
    }

    /// Gives waiting requests an endpoint where one now has room (critical first, each queue in order) and fails
    /// the ones past their deadline. Returns what became of each waiter that stopped waiting.
    public mutating func serveWaiting(now: ContinuousClock.Instant) -> [(id: UInt64, outcome: Outcome)] {
        var results: [(UInt64, Outcome)] = []
        for criticality in Criticality.allCases.sorted(by: >) {
            guard var queue = waiting[criticality], !queue.isEmpty else { continue }
            var kept: [Waiter] = []
            var full = false
            for waiter in queue {
                let candidates = full ? [] : candidates(for: waiter.ask, now: now)
                if !candidates.isEmpty && (waiter.forEndpoint || !settings.saturation.isSaturated(candidates)) {
                    if waiter.forEndpoint {
                        // The endpoint appeared; from here on it waits for room like any other request.
                        var waiter = waiter
                        waiter.forEndpoint = false
                        waiter.deadline = now + settings.queueTimeout
                        if settings.saturation.isSaturated(candidates) && !waiter.ask.isRetry {
                            kept.append(waiter)
                            continue
                        }
                    }
                    results.append((waiter.id, .lease(dispatch(waiter.ask, candidates))))
                } else if now >= waiter.deadline {
                    let failure: Failure =
                        waiter.forEndpoint
                        ? .noEndpoint(
                            "no ready endpoint serves `\(waiter.ask.model)` (waited \(settings.noEndpointWait))")
                        : .queueTimeout(settings.queueTimeout)
                    results.append((waiter.id, .fail(failure)))
                } else {
                    if !candidates.isEmpty { full = true }
                    kept.append(waiter)
                }
            }
            queue = kept
            waiting[criticality] = queue
        }
        return results
    }

    /// Stops waiting for `id` (its client went away); false if it was not waiting.
    public mutating func cancelWaiting(_ id: UInt64) -> Bool {
        for (criticality, queue) in waiting {
            if let i = queue.firstIndex(where: { $0.id == id }) {
                waiting[criticality]!.remove(at: i)
                return true
            }
        }
        return false
    }

    /// Whether any request waits.
    public var hasWaiting: Bool { waiting.values.contains { !$0.isEmpty } }

    /// Requests waiting for an endpoint to appear.
    var heldForEndpoint: Int { waiting.values.reduce(0) { $0 + $1.filter(\.forEndpoint).count } }

    /// The pool's load for an autoscaler: each serving endpoint's latest scrape, the requests held at the gateway
    /// (for an endpoint or for room), those in flight, and when the last request came.
    public var load: PoolLoad {
        var metrics: [String: EndpointMetrics] = [:]
        for (id, endpoint) in endpoints where !endpoint.draining && endpoint.healthy {
            metrics[id] = endpoint.metrics ?? EndpointMetrics()
        }
        return PoolLoad(
            endpoints: metrics, held: waiting.values.reduce(0) { $0 + $1.count },
            inFlight: endpoints.values.reduce(0) { $0 + max(0, $1.inFlight) }, lastActivityAt: lastActivityAt,
            arrivals: arrivals, completions: completions)
    }

    /// Requests waiting per criticality.
    public var waitingCounts: [Criticality: Int] { waiting.mapValues(\.count) }

    private mutating func enqueue(_ waiter: Waiter) {
        waiting[waiter.ask.criticality, default: []].append(waiter)
    }

    private mutating func dispatch(_ ask: Ask, _ candidates: [EndpointSnapshot]) -> Lease {
        let profile = settings.profile
        var request = RoutingRequest(
            model: ask.model, adapter: adapter(ask.model), criticality: ask.criticality, blockCount: ask.hashes.count,
            promptTokens: ask.promptTokens, blockSize: ask.blockSize)
        if profile.usesPrefix && !ask.hashes.isEmpty {
            request.prefixMatches = index.matches(ask.hashes, endpoints: candidates.map(\.id))
        }
        if profile.usesSession, let session = ask.session { request.sessionEndpoint = sessions[session] }
        let chosen = candidates[profile.pick(request, from: candidates, state: &pickState) ?? 0].id
        if profile.usesPrefix && !ask.hashes.isEmpty { index.record(ask.hashes, endpoint: chosen) }
        if profile.usesSession, let session = ask.session { sessions.record(session, endpoint: chosen) }
        endpoints[chosen]!.inFlight += 1
        nextLease += 1
        var lease = Lease(endpoint: chosen, id: nextLease)
        if request.promptTokens > 0 {
            lease.prefillTokens = request.uncachedTokens(on: chosen)
            endpoints[chosen]!.pendingPrefill += lease.prefillTokens
            pendingPrefills[lease.id] = (chosen, lease.prefillTokens)
        }
        return lease
    }

    /// The adapter `model` names, when an endpoint lists it with a parent.
    func adapter(_ model: String) -> String? {
        for endpoint in endpoints.values {
            if let served = endpoint.models?.first(where: { $0.id == model }) {
                return served.parent == nil ? nil : model
            }
        }
        return nil
    }
}
