import Testing

@testable import StarlingControllers

/// Reading the gateways' `/metrics` for the autoscaler: held requests summed over the gateways of a reading,
/// arrivals and completions followed per gateway so that their sum only grows.
@Suite struct GatewayPoolSignalsTests {
    static func exposition(
        held: [String: Int] = [:], arrivals: [String: Int] = [:], completions: [String: Int] = [:]
    )
        -> String
    {
        var lines = ["# TYPE starling_gateway_queue_length gauge"]
        for (pool, n) in held.sorted(by: { $0.key < $1.key }) {
            lines.append(#"starling_gateway_queue_length{pool="\#(pool)",criticality="Critical"} \#(n)"#)
            lines.append(#"starling_gateway_queue_length{pool="\#(pool)",criticality="Sheddable"} 0"#)
        }
        for (pool, n) in arrivals.sorted(by: { $0.key < $1.key }) {
            lines.append(#"starling_gateway_pool_arrivals_total{pool="\#(pool)"} \#(n)"#)
        }
        for (pool, n) in completions.sorted(by: { $0.key < $1.key }) {
            lines.append(#"starling_gateway_pool_completions_total{pool="\#(pool)"} \#(n)"#)
        }
        // Families whose names start alike are not read as ours.
        lines.append(#"starling_gateway_pool_arrivals_total_extra{pool="a"} 1000"#)
        return lines.joined(separator: "\n") + "\n"
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Readings in order: each gateway URL's (arrivals, completions) for pool "a"; a missing URL did not answer.
        var readings: [[String: (Int, Int)]]
        var arrivals: Int
        var completions: Int
    }

    static let cases: [Case] = [
        Case(
            testDescription: "the first reading is a baseline", readings: [["g1": (50, 40)]], arrivals: 0,
            completions: 0),
        Case(
            testDescription: "growth is summed over gateways",
            readings: [["g1": (10, 10), "g2": (5, 5)], ["g1": (14, 12), "g2": (8, 5)]], arrivals: 7, completions: 2),
        Case(
            testDescription: "a gateway that goes away takes nothing back",
            readings: [["g1": (10, 10), "g2": (5, 5)], ["g1": (12, 11), "g2": (9, 9)], ["g1": (13, 12)]],
            arrivals: 7, completions: 6),
        Case(
            testDescription: "a restarted gateway adds all it counted since",
            readings: [["g1": (100, 100)], ["g1": (110, 105)], ["g1": (3, 2)]], arrivals: 13, completions: 7),
        Case(
            testDescription: "a missed scrape is not a restart",
            readings: [["g1": (10, 10)], [:], ["g1": (15, 12)]], arrivals: 5, completions: 2),
        Case(
            testDescription: "a gateway that joins later starts from its first reading",
            readings: [["g1": (10, 10)], ["g1": (11, 11), "g2": (500, 500)], ["g1": (12, 12), "g2": (502, 501)]],
            arrivals: 4, completions: 3),
    ]

    @Test(arguments: cases) func countsOnlyGrow(_ c: Case) {
        var signals = GatewayPoolSignals()
        for reading in c.readings {
            signals.record(
                reading.mapValues { Self.exposition(arrivals: ["a": $0.0], completions: ["a": $0.1]) })
        }
        #expect(signals.arrivals["a"] == c.arrivals)
        #expect(signals.completions["a"] == c.completions)
    }

    @Test func heldIsTheLatestReadingSummedOverGatewaysAndCriticalities() {
        var signals = GatewayPoolSignals()
        signals.record(["g1": Self.exposition(held: ["a": 3, "b": 1]), "g2": Self.exposition(held: ["a": 4])])
        #expect(signals.held == ["a": 7, "b": 1])
        signals.record(["g2": Self.exposition(held: ["a": 2])])
        #expect(signals.held == ["a": 2])
    }

    @Test func malformedLinesAreSkipped() {
        let text = """
            starling_gateway_queue_length{pool="a"} NaN
            starling_gateway_queue_length{pool="a"} x
            starling_gateway_queue_length{criticality="Critical"} 4
            starling_gateway_queue_length{pool="a",criticality="Critical"} 2
            starling_gateway_queue_length{pool="b} 9
            """
        #expect(GatewayPoolSignals.perPool(GatewayPoolSignals.heldMetric, in: text) == ["a": 2])
    }
}
