import Foundation
import StarlingTokenizer

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

    /// The text `parse` reads back (`uniform:10,20`).
    public var text: String {
        func n(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
        switch self {
        case .fixed(let value): return String(value)
        case .uniform(let low, let high): return "uniform:\(low),\(high)"
        case .normal(let mean, let sd, let low, let high): return "normal:\(n(mean)),\(n(sd)),\(low),\(high)"
        case .lognormal(let median, let sigma, let low, let high):
            return "lognormal:\(n(median)),\(n(sigma)),\(low),\(high)"
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

extension LengthDistribution {
    /// Parses `128`, `fixed:128`, `uniform:MIN,MAX`, `normal:MEAN,STDDEV,MIN,MAX` or
    /// `lognormal:MEDIAN,SIGMA,MIN,MAX`; errors name `field`.
    public static func parse(_ text: String, field: String) throws(BenchConfigurationError) -> LengthDistribution {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.count == 2 ? parts[0] : "fixed"
        let args = (parts.count == 2 ? parts[1] : parts[0]).split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        func numbers(_ count: Int, _ shape: String) throws(BenchConfigurationError) -> [Double] {
            let values = args.compactMap(Double.init)
            guard values.count == count, args.count == count else {
                throw BenchConfigurationError("\(field): \"\(text)\" is not \(shape)")
            }
            return values
        }
        let distribution: LengthDistribution
        switch kind {
        case "fixed":
            distribution = .fixed(Int(try numbers(1, "an integer or fixed:N")[0]))
        case "uniform":
            let v = try numbers(2, "uniform:MIN,MAX")
            distribution = .uniform(min: Int(v[0]), max: Int(v[1]))
        case "normal":
            let v = try numbers(4, "normal:MEAN,STDDEV,MIN,MAX")
            distribution = .normal(mean: v[0], stddev: v[1], min: Int(v[2]), max: Int(v[3]))
        case "lognormal":
            let v = try numbers(4, "lognormal:MEDIAN,SIGMA,MIN,MAX")
            distribution = .lognormal(median: v[0], sigma: v[1], min: Int(v[2]), max: Int(v[3]))
        default:
            throw BenchConfigurationError(
                "\(field): unknown distribution \"\(kind)\"; use fixed, uniform, normal or lognormal")
        }
        let problems = distribution.validate(path: field)
        guard problems.isEmpty else { throw BenchConfigurationError(problems.joined(separator: "; ")) }
        return distribution
    }
}

/// A configuration problem, naming the field or flag.
public struct BenchConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
