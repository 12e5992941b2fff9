/// Counters and histograms the engine keeps, in simulated seconds; rendered as vLLM's metrics.
public struct EngineStatistics: Sendable, Equatable {
    public var promptTokens: UInt64 = 0
    public var generationTokens: UInt64 = 0
    public var preemptions: UInt64 = 0
    public var prefixCacheQueries: UInt64 = 0
    public var prefixCacheHits: UInt64 = 0
    public var finished: [FinishReason: UInt64] = [:]
    public var steps: UInt64 = 0
    public var timeToFirstToken = LatencyHistogram(bounds: LatencyHistogram.timeToFirstToken)
    public var interTokenLatency = LatencyHistogram(bounds: LatencyHistogram.interTokenLatency)
    public var endToEndLatency = LatencyHistogram(bounds: LatencyHistogram.requestLatency)
    public var queueTime = LatencyHistogram(bounds: LatencyHistogram.requestLatency)

    public init() {}
}
