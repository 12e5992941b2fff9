/// What the client saw of one streamed request, in seconds since the run's start.
public struct RequestTiming: Sendable, Equatable, Codable {
    /// When the request was due (its planned arrival) and when it was actually sent.
    public var scheduled: Double
    public var sent: Double
    /// Arrival time of each chunk that carried output tokens, with the tokens it carried.
    public var chunks: [Chunk]
    public var end: Double?

    public struct Chunk: Sendable, Equatable, Codable {
        public var time: Double
        public var tokens: Int

        public init(time: Double, tokens: Int) {
            self.time = time
            self.tokens = tokens
        }
    }

    public init(scheduled: Double, sent: Double, chunks: [Chunk] = [], end: Double? = nil) {
        self.scheduled = scheduled
        self.sent = sent
        self.chunks = chunks
        self.end = end
    }

    /// How late the request went out compared with its schedule.
    public var sendLag: Double { sent - scheduled }

    /// Output tokens received.
    public var outputTokens: Int { chunks.reduce(0) { $0 + $1.tokens } }

    /// Time to first token: first non-empty chunk − send time (inference-perf's definition).
    public var timeToFirstToken: Double? { chunks.first { $0.tokens > 0 }.map { $0.time - sent } }

    /// End-to-end latency: end − send time.
    public var endToEndLatency: Double? { end.map { $0 - sent } }

    /// Time per output token: (last token − first token) / (output tokens − 1).
    public var timePerOutputToken: Double? {
        let withTokens = chunks.filter { $0.tokens > 0 }
        guard let first = withTokens.first, let last = withTokens.last, outputTokens > 1 else { return nil }
        return (last.time - first.time) / Double(outputTokens - 1)
    }

    /// Normalised time per output token: end-to-end latency / output tokens.
    public var normalizedTimePerOutputToken: Double? {
        guard let e2e = endToEndLatency, outputTokens > 0 else { return nil }
        return e2e / Double(outputTokens)
    }

    /// Gaps between consecutive token arrivals; tokens that share a chunk share its time (a zero gap each).
    public var interTokenGaps: [Double] {
        var gaps: [Double] = []
        var previous: Double?
        for chunk in chunks where chunk.tokens > 0 {
            if let previous { gaps.append(chunk.time - previous) }
            gaps.append(contentsOf: repeatElement(0, count: chunk.tokens - 1))
            previous = chunk.time
        }
        return gaps
    }
}

/// Latency bounds a request must meet to count toward goodput.
public struct ServiceLevelObjective: Sendable, Equatable, Codable {
    /// Largest acceptable time to first token, seconds.
    public var timeToFirstToken: Double?
    /// Largest acceptable time per output token, seconds.
    public var timePerOutputToken: Double?

    public init(timeToFirstToken: Double? = nil, timePerOutputToken: Double? = nil) {
        self.timeToFirstToken = timeToFirstToken
        self.timePerOutputToken = timePerOutputToken
    }

    /// A request is good only if it finished and meets every bound that is set.
    public func isMet(by timing: RequestTiming) -> Bool {
        guard timing.end != nil, let ttft = timing.timeToFirstToken else { return false }
        if let bound = timeToFirstToken, ttft > bound { return false }
        if let bound = timePerOutputToken, let tpot = timing.timePerOutputToken, tpot > bound { return false }
        return true
    }
}
