import Histogram

/// Percentiles of one latency, recorded in microseconds in an HdrHistogram (3 significant digits).
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: Int
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var max: Double

    /// Summary of `seconds`; nil when there are none.
    public init?(_ seconds: [Double]) {
        guard !seconds.isEmpty else { return nil }
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for value in seconds { _ = histogram.record(UInt64(Swift.max(0, value) * 1e6)) }
        func at(_ p: Double) -> Double { Double(histogram.valueAtPercentile(p)) / 1e6 }
        count = seconds.count
        mean = histogram.mean / 1e6
        p50 = at(50)
        p90 = at(90)
        p95 = at(95)
        p99 = at(99)
        max = Double(histogram.max) / 1e6
    }
}

/// What one stage (or the whole run) measured.
public struct StageSummary: Sendable, Codable, Equatable {
    public var stage: Int?
    /// Seconds since the measured run's start, and how long the stage lasted.
    public var start: Double?
    public var duration: Double
    /// The rate the stage asked for (open loop), requests/s.
    public var targetRate: Double?
    public var requests: Int
    public var succeeded: Int
    public var errors: [String: Int]
    public var requestThroughput: Double
    public var outputTokenThroughput: Double
    public var inputTokens: Int
    public var outputTokens: Int
    public var timeToFirstToken: LatencySummary?
    public var interTokenLatency: LatencySummary?
    public var timePerOutputToken: LatencySummary?
    public var normalizedTimePerOutputToken: LatencySummary?
    public var endToEndLatency: LatencySummary?
    /// How late requests went out compared with the schedule.
    public var sendLag: LatencySummary?
    /// Requests meeting the SLO, and their output tokens per second.
    public var goodRequests: Int?
    public var goodput: Double?
    public var goodOutputTokenThroughput: Double?
    /// Requests per serving endpoint, when the server names it.
    public var endpoints: [String: Int]

    public init(
        stage: Int?, duration: Double, records: [RequestRecord], slo: ServiceLevelObjective?, start: Double? = nil,
        targetRate: Double? = nil
    ) {
        self.stage = stage
        self.start = start
        self.duration = duration
        self.targetRate = targetRate
        requests = records.count
        let ok = records.filter(\.succeeded)
        succeeded = ok.count
        errors = Dictionary(grouping: records.compactMap(\.error), by: { $0 }).mapValues(\.count)
        inputTokens = ok.reduce(0) { $0 + ($1.inputTokens ?? 0) }
        outputTokens = ok.reduce(0) { $0 + $1.outputTokens }
        requestThroughput = duration > 0 ? Double(ok.count) / duration : 0
        outputTokenThroughput = duration > 0 ? Double(outputTokens) / duration : 0
        timeToFirstToken = LatencySummary(ok.compactMap(\.timing.timeToFirstToken))
        interTokenLatency = LatencySummary(ok.flatMap(\.timing.interTokenGaps))
        timePerOutputToken = LatencySummary(ok.compactMap(\.timing.timePerOutputToken))
        normalizedTimePerOutputToken = LatencySummary(ok.compactMap(\.timing.normalizedTimePerOutputToken))
        endToEndLatency = LatencySummary(ok.compactMap(\.timing.endToEndLatency))
        sendLag = LatencySummary(records.map(\.timing.sendLag))
        if let slo {
            let good = ok.filter { slo.isMet(by: $0.timing) }
            goodRequests = good.count
            goodput = records.isEmpty ? 0 : Double(good.count) / Double(records.count)
            goodOutputTokenThroughput = duration > 0 ? Double(good.reduce(0) { $0 + $1.outputTokens }) / duration : 0
        }
        endpoints = Dictionary(grouping: records.compactMap(\.endpoint), by: { $0 }).mapValues(\.count)
    }
}

/// The whole run: configuration echo, per-stage and overall summaries, and every request.
public struct BenchReport: Sendable, Codable, Equatable {
    public static let schemaVersion = 1

    /// One measured stage as planned.
    public struct StagePlan: Sendable, Equatable {
        public var start: Double
        public var duration: Double
        public var targetRate: Double?

        public init(start: Double, duration: Double, targetRate: Double? = nil) {
            self.start = start
            self.duration = duration
            self.targetRate = targetRate
        }
    }

    /// What a saturation sweep's probe found.
    public struct Sweep: Sendable, Codable, Equatable {
        /// Requests/s the target completed in the probe's second half.
        public var saturationRate: Double
        public var fractions: [Double]
        public var probe: StageSummary

        public init(saturationRate: Double, fractions: [Double], probe: StageSummary) {
            self.saturationRate = saturationRate
            self.fractions = fractions
            self.probe = probe
        }
    }

    public var schemaVersion = BenchReport.schemaVersion
    /// Unix time at which the first measured stage began (open loop), to line the run up with what other tools
    /// recorded at the same time (an autoscaler's decisions).
    public var startedAt: Double?
    public var target: String
    public var api: String
    public var models: [String]
    public var mode: String
    /// What was sent (prompt source and lengths), in words.
    public var workload: String?
    public var seed: UInt64
    public var slo: ServiceLevelObjective?
    public var sweep: Sweep?
    /// True when the run was stopped before its schedule ended (Ctrl-C): the figures cover what ran.
    public var interrupted: Bool?
    public var stages: [StageSummary]
    public var overall: StageSummary
    public var requests: [RequestRecord]

    public init(
        target: BenchTarget, mode: String, workload: String? = nil, seed: UInt64, slo: ServiceLevelObjective?,
        stages plans: [StagePlan], records: [RequestRecord], sweep: Sweep? = nil
    ) {
        self.target = target.baseURL
        api = target.api.rawValue
        models = Array(Set(records.map(\.model))).sorted()
        if models.isEmpty { models = target.models }
        self.mode = mode
        self.workload = workload
        self.seed = seed
        self.slo = slo
        self.sweep = sweep
        stages = plans.enumerated().map { index, plan in
            StageSummary(
                stage: index, duration: plan.duration, records: records.filter { $0.stage == index }, slo: slo,
                start: plan.start, targetRate: plan.targetRate)
        }
        overall = StageSummary(
            stage: nil, duration: plans.reduce(0) { $0 + $1.duration }, records: records, slo: slo)
        requests = records
    }
}
