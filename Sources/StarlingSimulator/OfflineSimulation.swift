/// Runs an `EngineCore` in virtual time over a workload, with no sleeping: the calibration and capacity planning
/// path. Arrivals are open-loop (given times) or closed-loop (a fixed number of clients, each sending its next
/// request when the previous one finishes).
public struct OfflineSimulation: Sendable {
    public var configuration: EngineConfiguration

    public init(configuration: EngineConfiguration) { self.configuration = configuration }

    /// What happened to one request.
    public struct RequestRecord: Sendable {
        public var arrival: Double
        public var firstToken: Double?
        public var finish: Double?
        public var tokens = 0
        public var lastToken: Double?
        /// Gaps between consecutive tokens.
        public var gaps: [Double] = []
    }

    /// The outcome of a run.
    public struct Result: Sendable {
        public var records: [RequestRecord]
        public var statistics: EngineStatistics
        public var end: Double

        public var timesToFirstToken: [Double] { records.compactMap { r in r.firstToken.map { $0 - r.arrival } } }
        public var interTokenGaps: [Double] { records.flatMap(\.gaps) }

        /// Output tokens per second between the first `warmup` and the last `cooldown` share of the run.
        public func outputThroughput(warmup: Double = 0.1, cooldown: Double = 0.1) -> Double {
            let from = end * warmup
            let to = end * (1 - cooldown)
            guard to > from else { return 0 }
            var tokens = 0.0
            for record in records {
                guard let first = record.firstToken else { continue }
                var t = first
                if t >= from && t < to { tokens += 1 }
                for gap in record.gaps {
                    t += gap
                    if t >= from && t < to { tokens += 1 }
                }
            }
            return tokens / (to - from)
        }
    }

    /// Open loop: each request enters at its time.
    public func run(arrivals: [(time: Double, request: EngineRequest)]) -> Result {
        var queue = arrivals.sorted { $0.time < $1.time }[...]
        return simulate(next: { _ in nil }, initial: &queue)
    }

    /// Closed loop: `clients` clients each send `perClient` requests back to back, made by `make(i)`.
    public func run(clients: Int, total: Int, make: (Int) -> EngineRequest) -> Result {
        var made = 0
        var initial: ArraySlice<(time: Double, request: EngineRequest)> = []
        while made < min(clients, total) {
            initial.append((0, make(made)))
            made += 1
        }
        return simulate(
            next: { _ in
                guard made < total else { return nil }
                made += 1
                return make(made - 1)
            }, initial: &initial)
    }

    private func simulate(
        next: (Double) -> EngineRequest?, initial queue: inout ArraySlice<(time: Double, request: EngineRequest)>
    ) -> Result {
        var core = EngineCore(configuration: configuration)
        var records: [UInt64: RequestRecord] = [:]
        var done: [RequestRecord] = []
        var now = 0.0
        func admit(upTo time: Double) {
            while let first = queue.first, first.time <= time {
                queue.removeFirst()
                let id = core.add(first.request, now: first.time)
                records[id] = RequestRecord(arrival: first.time)
            }
        }
        while true {
            admit(upTo: now)
            switch core.schedule(now: now) {
            case .step(let plan):
                now = plan.end
                for (id, event) in core.complete(plan, now: now) {
                    guard var record = records[id] else { continue }
                    if let last = record.lastToken {
                        record.gaps.append(event.time - last)
                    } else {
                        record.firstToken = event.time
                    }
                    record.lastToken = event.time
                    record.tokens += event.tokens
                    if event.finishReason != nil {
                        record.finish = event.time
                        done.append(record)
                        records[id] = nil
                        if let request = next(now) { queue.append((now, request)) }
                    } else {
                        records[id] = record
                    }
                }
            case .idle(let until):
                let candidates = [until, queue.first?.time].compactMap { $0 }
                guard let wake = candidates.min() else {
                    return Result(records: done + records.values, statistics: core.statistics, end: now)
                }
                now = max(now, wake)
            }
        }
    }
}
