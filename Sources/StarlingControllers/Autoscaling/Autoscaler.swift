import StarlingAPI

/// The autoscaler's decision for one ModelService, as a value: signals, the current replica count and what it
/// decided before go in; the replicas it wants and why come out. The controller around it only reads signals and
/// writes the scale subresource.
///
/// Each evaluation (twice a second):
/// 1. **Need.** The replicas the metric asks for, counting replicas that are starting as capacity already there (so
///    a load step does not add a replica at every evaluation while the first ones load):
///    - `concurrency`: ceil((running + waiting + held) / target);
///    - `kvCache`: ceil(Σ usage over Ready replicas / target);
///    - `queue`: with q = waiting + held over the replicas there or starting, above target: those replicas plus
///      ceil(excess / target); at or below target, it may fall to what the queue asks for (ceil(q / target)) and
///      the running requests need: batch slots (learned from replicas seen running while requests waited) and KV
///      cache each at most `queueScaleDownKVCache` used — a replica is removed only when the others can take its
///      running requests without queueing them.
///    Within `tolerance` (10%, as an HPA) of the target per replica the count stays.
/// 2. **Stabilization**, as an HPA: the count goes up only as far as the lowest need of the scale-up window
///    (default 0 s: at once) and down only as far as the highest need of the scale-down window (default 30 s).
/// 3. **Rate limits**: each policy allows a change relative to the count at the start of its period; the most
///    permissive policy applies. None: no limit.
/// 4. **Bounds**: between `minReplicas` and `maxReplicas`; to zero only after `scaleToZeroAfterSeconds` without
///    any request. A service at zero with a held request goes to at least one at once, whatever the windows say.
public struct Autoscaler: Sendable, Equatable {
    /// A need recorded at a time, for the stabilization windows.
    struct Recommendation: Sendable, Equatable {
        var at: Duration
        var replicas: Int
    }

    /// A change made at a time, for the rate limits.
    struct ScaleEvent: Sendable, Equatable {
        var at: Duration
        var change: Int
    }

    /// What the autoscaler decided, and why.
    public struct Decision: Sendable, Equatable {
        public var desired: Int
        /// The metric per replica it judged.
        public var value: Double
        /// `queue 7.2 per replica > target 3`.
        public var reason: String

        public init(desired: Int, value: Double, reason: String) {
            self.desired = desired
            self.value = value
            self.reason = reason
        }
    }

    /// How far from the target per replica the count is left alone, as an HPA's `--horizontal-pod-autoscaler-
    /// tolerance`.
    public static let tolerance = 0.1
    /// Scale-down window when the spec sets none: one model-server start (tens of seconds), so a dip shorter than
    /// a replica's cold start does not cost one; an HPA's 300 s suits pods that start in seconds behind a 15 s
    /// metrics pipeline.
    public static let defaultScaleDownWindowSeconds = 30
    /// With metric `queue`, removing a replica must leave the others' KV-cache usage below this.
    public static let queueScaleDownKVCache = 0.7

    /// How the need is computed.
    public enum Algorithm: String, Sendable, Equatable, CaseIterable {
        /// Starling's: absolute needs with starting replicas as capacity, held requests, scale to and from zero.
        case starling
        /// The HorizontalPodAutoscaler's (`hpaNeed`), the benchmark's baseline.
        case hpa
    }

    private var recommendations: [Recommendation] = []
    private var events: [ScaleEvent] = []
    /// The most requests a replica has been seen running while others waited on it: its batch slots
    /// (`max_num_seqs` or the KV cache's limit), learned, so a scale-down keeps enough for what runs.
    private(set) var slotsPerReplica: Double?
    /// Requests a replica has been seen finishing per second while every replica had requests waiting: its
    /// throughput, learned, which turns an arrival rate into replicas.
    private(set) var servicePerReplica: Double?
    /// Cumulative arrivals and completions at a time.
    struct Counts: Sendable, Equatable {
        var at: Duration
        var arrivals: Int
        var completions: Int
    }

    /// Recent cumulative arrivals and completions, for rates.
    private var counts: [Counts] = []
    public let algorithm: Algorithm

    /// How much of a replica's learned throughput the arrival rate may use before another replica is asked for.
    public static let rateHeadroom = 0.85

    public init(algorithm: Algorithm = .starling) { self.algorithm = algorithm }

    /// Decides at `now` (a duration since any fixed origin) for a service whose `spec.replicas` is `current`.
    public mutating func decide(
        _ spec: AutoscalingSpec, current: Int, signals: AutoscaleSignals, now: Duration
    ) -> Decision {
        for replica in signals.ready where replica.waiting > 0 && replica.running > 0 {
            slotsPerReplica = max(slotsPerReplica ?? 0, replica.running)
        }
        let rates = observeRates(signals, now: now)
        var (need, value, why) =
            algorithm == .hpa
            ? Self.hpaNeed(spec, current: current, signals: signals)
            : Self.need(spec, current: current, signals: signals, slots: slotsPerReplica)
        // A step in arrivals is seen before a queue builds: with a replica's throughput learned, the arrival rate
        // asks for replicas at once (confirmed by a queue forming, so a second of Poisson noise does not).
        if algorithm == .starling, spec.metric == .queue, let arrivalRate = rates?.arrivals,
            let perReplica = servicePerReplica, perReplica > 0
        {
            let byRate = Int((arrivalRate / (perReplica * Self.rateHeadroom)).rounded(.up))
            let queued = signals.ready.reduce(Double(signals.held)) { $0 + $1.waiting }
            if byRate > need && (byRate <= current || queued > 0) {
                need = byRate
                why =
                    "arrivals \(Int(arrivalRate.rounded()))/s need \(byRate) replicas at "
                    + "\(Int(perReplica.rounded()))/s each"
            }
        }
        recommendations.append(Recommendation(at: now, replicas: need))
        let upWindow = Duration.seconds(spec.scaleUp?.stabilizationWindowSeconds ?? 0)
        let downWindow = Duration.seconds(
            spec.scaleDown?.stabilizationWindowSeconds ?? Self.defaultScaleDownWindowSeconds)
        let longest = max(upWindow, downWindow, Self.longestPeriod(spec))
        recommendations.removeAll { now - $0.at > longest }
        events.removeAll { now - $0.at > longest }

        // From zero with a request held: at once, windows and limits notwithstanding.
        if algorithm == .starling && current == 0 && signals.held > 0 {
            let desired = min(max(need, spec.effectiveMinReplicas, 1), spec.maxReplicas)
            return record(
                Decision(desired: desired, value: value, reason: "\(signals.held) requests held with no replica"),
                current: current, now: now)
        }
        let upFloor = recommendations.filter { now - $0.at <= upWindow }.map(\.replicas).min() ?? need
        let downCeiling = recommendations.filter { now - $0.at <= downWindow }.map(\.replicas).max() ?? need
        var desired = current
        if upFloor > current {
            desired = upFloor
        } else if downCeiling < current {
            desired = downCeiling
        }
        desired = limited(desired, current: current, spec: spec, now: now)
        var reason = why
        let minimum = spec.effectiveMinReplicas
        if desired < max(minimum, 1) {
            let idle = signals.idleFor.map { $0 >= .seconds(spec.effectiveScaleToZeroAfterSeconds) } ?? false
            if minimum == 0 && current == 0 && !signals.hasDemand {
                desired = 0
                reason = "no request"
            } else if minimum == 0 && idle && !signals.hasDemand {
                desired = 0
                reason = "no request for \(spec.effectiveScaleToZeroAfterSeconds)s"
            } else {
                desired = max(minimum, 1)
            }
        }
        desired = min(desired, spec.maxReplicas)
        return record(Decision(desired: desired, value: value, reason: reason), current: current, now: now)
    }

    /// Arrivals and completions per second over about the last second, and the per-replica throughput learned
    /// while every Ready replica had requests waiting.
    private mutating func observeRates(
        _ signals: AutoscaleSignals, now: Duration
    ) -> (arrivals: Double, completions: Double)? {
        guard let arrivals = signals.arrivals, let completions = signals.completions else { return nil }
        counts.append(Counts(at: now, arrivals: arrivals, completions: completions))
        counts.removeAll { now - $0.at > .seconds(3) }
        guard let earlier = counts.last(where: { now - $0.at >= .milliseconds(800) }) else { return nil }
        let seconds = Self.seconds(now - earlier.at)
        let rates = (
            arrivals: Double(arrivals - earlier.arrivals) / seconds,
            completions: Double(completions - earlier.completions) / seconds
        )
        let saturated = !signals.ready.isEmpty && signals.ready.allSatisfy { $0.waiting > 0 }
        if saturated && rates.completions > 0 {
            servicePerReplica = max(servicePerReplica ?? 0, rates.completions / Double(signals.ready.count))
        }
        return rates
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private mutating func record(_ decision: Decision, current: Int, now: Duration) -> Decision {
        if decision.desired != current { events.append(ScaleEvent(at: now, change: decision.desired - current)) }
        return decision
    }

    /// The replicas the metric asks for, the metric per replica, and why.
    static func need(
        _ spec: AutoscalingSpec, current: Int, signals: AutoscaleSignals, slots: Double? = nil
    ) -> (Int, Double, String) {
        let target = spec.target
        let capacity = signals.ready.count + signals.starting
        let held = Double(signals.held)
        func within(_ perReplica: Double) -> Bool { abs(perReplica / target - 1) <= tolerance }
        func text(_ value: Double) -> String {
            let rounded = (value * 10).rounded() / 10
            return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        }
        switch spec.metric {
        case .kvCache:
            let total = signals.ready.reduce(0) { $0 + $1.kvCache }
            let perReplica = signals.ready.isEmpty ? 0 : total / Double(signals.ready.count)
            let comparison = perReplica > target ? ">" : perReplica < target ? "<" : "="
            let reason = "kvCache \(text(perReplica)) per replica \(comparison) target \(text(target))"
            if signals.ready.isEmpty { return (max(current, held > 0 ? 1 : 0), 0, "no Ready replica reports") }
            if within(perReplica) { return (current, perReplica, reason) }
            // Starting replicas count as capacity: do not go below what is there or on its way.
            let need = Int((total / target).rounded(.up))
            return (perReplica > target ? max(need, capacity) : need, perReplica, reason)
        case .concurrency:
            let total = signals.ready.reduce(held) { $0 + $1.running + $1.waiting }
            let perReplica = total / Double(max(capacity, 1))
            let comparison = perReplica > target ? ">" : perReplica < target ? "<" : "="
            let reason = "concurrency \(text(perReplica)) per replica \(comparison) target \(text(target))"
            if capacity > 0 && within(perReplica) { return (current, perReplica, reason) }
            return (Int((total / target).rounded(.up)), perReplica, reason)
        default:
            let queued = signals.ready.reduce(held) { $0 + $1.waiting }
            let perReplica = queued / Double(max(capacity, 1))
            if queued > target * Double(capacity) * (1 + tolerance) {
                let excess = queued - target * Double(capacity)
                return (
                    capacity + Int((excess / target).rounded(.up)), perReplica,
                    "queue \(text(perReplica)) per replica > target \(text(target))"
                )
            }
            // At or under target: keep what the queue asks for and what the running requests need — batch slots
            // (learned from replicas seen full) at most 70% used, KV cache under `queueScaleDownKVCache` — never
            // more than there are (the queue, not these, asks for more).
            let kv = signals.ready.reduce(0) { $0 + $1.kvCache }
            let running = signals.ready.reduce(0) { $0 + $1.running }
            var keep = max(Int((kv / queueScaleDownKVCache).rounded(.up)), Int((queued / target).rounded(.up)))
            if let slots, slots > 0 { keep = max(keep, Int((running / (slots * queueScaleDownKVCache)).rounded(.up))) }
            if running > 0 || queued > 0 { keep = max(keep, 1) }
            let need = min(keep, current)
            return (
                need, perReplica,
                "queue \(text(perReplica)) per replica <= target \(text(target)); KV cache \(text(kv)) in use"
            )
        }
    }

    /// The change the rate-limit policies allow from `current` towards `desired`.
    func limited(_ desired: Int, current: Int, spec: AutoscalingSpec, now: Duration) -> Int {
        if desired > current, let policies = spec.scaleUp?.policies, !policies.isEmpty {
            let allowed =
                policies.map { policy -> Int in
                    let added = events.filter { now - $0.at < .seconds(policy.periodSeconds) && $0.change > 0 }
                        .reduce(0) { $0 + $1.change }
                    let start = current - added
                    switch policy.type {
                    case .percent: return Int((Double(start) * (1 + Double(policy.value) / 100)).rounded(.up))
                    default: return start + policy.value
                    }
                }.max() ?? desired
            return max(current, min(desired, allowed))
        }
        if desired < current, let policies = spec.scaleDown?.policies, !policies.isEmpty {
            let allowed =
                policies.map { policy -> Int in
                    let removed = events.filter { now - $0.at < .seconds(policy.periodSeconds) && $0.change < 0 }
                        .reduce(0) { $0 - $1.change }
                    let start = current + removed
                    switch policy.type {
                    case .percent: return Int((Double(start) * (1 - Double(policy.value) / 100)).rounded(.down))
                    default: return start - policy.value
                    }
                }.min() ?? desired
            return min(current, max(desired, allowed))
        }
        return desired
    }

    static func longestPeriod(_ spec: AutoscalingSpec) -> Duration {
        let periods = ((spec.scaleUp?.policies ?? []) + (spec.scaleDown?.policies ?? [])).map(\.periodSeconds)
        return .seconds(periods.max() ?? 0)
    }
}
