/// A cumulative Prometheus histogram with fixed buckets.
public struct LatencyHistogram: Sendable, Equatable {
    public let bounds: [Double]
    /// Observations per bucket (not cumulative); the last slot is `+Inf`.
    public private(set) var counts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    public init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    public mutating func observe(_ value: Double) {
        var low = 0
        var high = bounds.count
        while low < high {
            let mid = (low + high) / 2
            if value <= bounds[mid] { high = mid } else { low = mid + 1 }
        }
        counts[low] += 1
        sum += value
        count += 1
    }

    /// The value below which `quantile` of observations fall, interpolated inside the bucket.
    public func quantile(_ quantile: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = quantile * Double(count)
        var seen: UInt64 = 0
        for (i, n) in counts.enumerated() where n > 0 {
            if Double(seen + n) >= rank {
                let low = i == 0 ? 0 : bounds[i - 1]
                let high = i < bounds.count ? bounds[i] : (bounds.last ?? 0)
                return low + (high - low) * max(0, rank - Double(seen)) / Double(n)
            }
            seen += n
        }
        return bounds.last
    }

    // Bucket bounds as vLLM's v1 metrics define them (vllm/v1/metrics/loggers.py).
    public static let timeToFirstToken: [Double] = [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
        80.0, 160.0, 640.0, 2560.0,
    ]
    public static let interTokenLatency: [Double] = [
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
    ]
    public static let requestLatency: [Double] = [
        0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
        960.0, 1920.0, 7680.0,
    ]
}
