import Foundation

/// What the gateway replicas of a cluster say about each pool, read from their `/metrics`: the requests they hold
/// now (`starling_gateway_queue_length`, summed), and arrivals and completions as counts that only grow, for the
/// autoscaler's rates. Each gateway's counters are followed apart, as Prometheus's `rate` does: a gateway that
/// restarts (its counter drops) adds what it counted since, and one that goes away takes nothing back, so the sum
/// never falls when the set of gateways changes.
public struct GatewayPoolSignals: Sendable, Equatable {
    /// Requests held per pool, over the gateways of the latest reading.
    public private(set) var held: [String: Int] = [:]
    /// Arrivals and completions per pool since the first reading, over every gateway ever read.
    public private(set) var arrivals: [String: Int] = [:]
    public private(set) var completions: [String: Int] = [:]
    /// The last counter values per gateway (by URL) and pool.
    private var lastArrivals: [String: [String: Int]] = [:]
    private var lastCompletions: [String: [String: Int]] = [:]

    public static let heldMetric = "starling_gateway_queue_length"
    public static let arrivalsMetric = "starling_gateway_pool_arrivals_total"
    public static let completionsMetric = "starling_gateway_pool_completions_total"

    public init() {}

    /// Takes one reading: each answering gateway's exposition by URL. Gateways that did not answer keep their
    /// last counters (a missed scrape is not a restart) and hold nothing in this reading.
    public mutating func record(_ expositions: [String: String]) {
        held = [:]
        for (url, text) in expositions {
            held.merge(Self.perPool(Self.heldMetric, in: text), uniquingKeysWith: +)
            Self.advance(&arrivals, last: &lastArrivals[url, default: [:]], Self.perPool(Self.arrivalsMetric, in: text))
            Self.advance(
                &completions, last: &lastCompletions[url, default: [:]], Self.perPool(Self.completionsMetric, in: text))
        }
    }

    /// Adds each pool's growth since `last` to `totals`. A pool first seen sets its baseline (what it counted
    /// before is not known to be recent); a counter below its last value was reset, and all of it is new.
    private static func advance(_ totals: inout [String: Int], last: inout [String: Int], _ now: [String: Int]) {
        for (pool, value) in now {
            if let before = last[pool] {
                totals[pool, default: 0] += value >= before ? value - before : value
            } else {
                totals[pool, default: 0] += 0
            }
            last[pool] = value
        }
    }

    /// `metric{…pool="p"…} n` summed per pool, over any other labels.
    public static func perPool(_ metric: String, in text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        let prefix = metric + "{"
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            guard let poolStart = line.range(of: #"pool=""#), let close = line.lastIndex(of: "}"),
                let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)),
                value.isFinite
            else { continue }
            let rest = line[poolStart.upperBound...]
            guard let quote = rest.firstIndex(of: "\"") else { continue }
            counts[String(rest[..<quote]), default: 0] += Int(value)
        }
        return counts
    }
}
