import Foundation

/// A distribution of token counts (prompt or output lengths), clamped to `[min, max]`.
public enum LengthDistribution: Sendable, Equatable {
    case fixed(Int)
    case uniform(min: Int, max: Int)
    /// Normal with `mean` and `stddev`, rounded and clamped.
    case normal(mean: Double, stddev: Double, min: Int, max: Int)
    /// Log-normal whose median is `median` and whose log has standard deviation `sigma`, rounded and clamped.
    case lognormal(median: Double, sigma: Double, min: Int, max: Int)

    /// One draw.
    public func sample(_ random: inout SeededRandom) -> Int {
        switch self {
        case .fixed(let n):
            return n
        case .uniform(let low, let high):
            return low + Int(random.next() % UInt64(high - low + 1))
        case .normal(let mean, let stddev, let low, let high):
            return Self.clamp((mean + stddev * random.normal()).rounded(), low, high)
        case .lognormal(let median, let sigma, let low, let high):
            return Self.clamp((median * exp(sigma * random.normal())).rounded(), low, high)
        }
    }

    /// Problems with the parameters, each naming `path` (e.g. `data.input`).
    public func validate(path: String) -> [String] {
        switch self {
        case .fixed(let n):
            return n >= 1 ? [] : ["\(path).value: must be at least 1, got \(n)"]
        case .uniform(let low, let high):
            return Self.bounds(path, low, high)
        case .normal(let mean, let stddev, let low, let high):
            var problems = Self.bounds(path, low, high)
            if !(mean > 0) { problems.append("\(path).mean: must be positive, got \(mean)") }
            if !(stddev >= 0) { problems.append("\(path).stddev: must not be negative, got \(stddev)") }
            return problems
        case .lognormal(let median, let sigma, let low, let high):
            var problems = Self.bounds(path, low, high)
            if !(median > 0) { problems.append("\(path).median: must be positive, got \(median)") }
            if !(sigma >= 0) { problems.append("\(path).sigma: must not be negative, got \(sigma)") }
            return problems
        }
    }

    static func bounds(_ path: String, _ low: Int, _ high: Int) -> [String] {
        var problems: [String] = []
        if low < 1 { problems.append("\(path).min: must be at least 1, got \(low)") }
        if high < low { problems.append("\(path).max: must be at least min (\(low)), got \(high)") }
        return problems
    }

    static func clamp(_ value: Double, _ low: Int, _ high: Int) -> Int {
        guard value.isFinite else { return low }
        return Swift.min(high, Swift.max(low, Int(value)))
    }
}
