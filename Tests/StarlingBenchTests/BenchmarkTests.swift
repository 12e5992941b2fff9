import AsyncHTTPClient
import Foundation
import StarlingTokenizer
import Testing

@testable import StarlingBench

/// Whole runs from a configuration against the in-process simulator.
@Suite(.serialized) final class BenchmarkTests {
    let client = BenchRunner.makeClient()

    deinit { try? client.syncShutdown() }

    func configuration(_ base: String, _ edit: (inout BenchConfiguration) -> Void) -> BenchConfiguration {
        var c = BenchConfiguration()
        c.target.baseURL = base
        c.load.arrivals = .constant
        c.data.input = .fixed(20)
        c.data.output = .fixed(8)
        edit(&c)
        return c
    }

    @Test func sweepProbesSaturationThenRunsStagesAtFractionsOfIt() async throws {
        try await withSimulator { base in
            let c = configuration(base) { c in
                var sweep = BenchConfiguration.Sweep()
                sweep.probeConcurrency = 4
                // Long enough that CPU contention from suites running alongside (the Kubernetes test control plane
                // starting takes both cores for several seconds) still leaves completions in the probe's second half.
                sweep.probeDuration = 10
                sweep.fractions = [0.5, 1]
                sweep.stageDuration = 1
                c.load.mode = .sweep(sweep)
            }
            let benchmark = Benchmark(configuration: c, client: client)
            #expect(benchmark.plannedDuration == 12)
            let report = try await benchmark.run()
            let sweep = try #require(report.sweep)
            // The rate is the completions in the probe's second half (5 s) over its length. How many there are
            // depends on how much of the two cores the suites running alongside leave, so the test checks the
            // arithmetic (a whole, non-zero count of completions per 5 s), not a speed.
            let completions = sweep.saturationRate * 5
            #expect(completions >= 1 && abs(completions - completions.rounded()) < 1e-9, "\(sweep.saturationRate)")
            #expect(report.models == ["starling/tiny"], "the model comes from /v1/models")
            #expect(report.stages.map(\.targetRate) == [0.5 * sweep.saturationRate, sweep.saturationRate])
            // Constant arrivals: each stage sends exactly its rate times its length.
            for stage in report.stages {
                let expected = Int((stage.targetRate! * stage.duration).rounded(.up))
                #expect(abs(stage.requests - expected) <= 1, "\(stage.requests) vs \(expected)")
                #expect(stage.succeeded == stage.requests)
            }
            #expect(report.stages.map(\.start) == [0, 1])
        }
    }

    @Test func multiTurnSessionsResendTheirHistoryWithTheServersReplies() async throws {
        try await withSimulator { base in
            let c = configuration(base) { c in
                c.target.api = .chat
                // A pause after the arrivals, so each session's later turns go out after its earlier ones however
                // slowly the shared cores answer them.
                c.load.mode = .stages([LoadStage(rate: 24, duration: 0.5), LoadStage(rate: 0, duration: 5)])
                c.data.multiTurn = .init(sessions: 3, turns: 4)
            }
            let report = try await Benchmark(configuration: c, client: client).run()
            let items = try Benchmark(configuration: c, client: client).promptSource(models: ["starling/tiny"])
                .items(count: report.requests.count)
            #expect(report.requests.allSatisfy { $0.succeeded }, "\(report.requests.compactMap(\.error))")
            var previous: [Int: (input: Int, output: Int)] = [:]
            for (item, record) in zip(items, report.requests) {
                let turn = try #require(item.turn)
                let input = try #require(record.inputTokens)
                if let before = previous[turn.session] {
                    // The whole earlier exchange (prompt and reply) comes back, plus the new message.
                    #expect(input >= before.input + before.output + item.inputTokens, "turn \(turn)")
                } else {
                    #expect(turn.index == 0)
                }
                previous[turn.session] = (input, record.outputTokens)
            }
            // The resent history is what the server's prefix cache finds again.
            #expect(try await metric(base, "vllm:prefix_cache_hits_total") > 0)
            // A later turn is never sent before the one before it has finished.
            for session in Set(items.compactMap { $0.turn?.session }) {
                let turns = zip(items, report.requests).filter { $0.0.turn?.session == session }.map(\.1)
                for (a, b) in zip(turns, turns.dropFirst()) { #expect(b.timing.sent >= a.timing.end!) }
            }
        }
    }

    @Test func loraMixSendsEachAdapterItsShareAndWarmUpIsLeftOut() async throws {
        try await withSimulator(edit: { $0.loraModules = [("sql-lora", "/adapters/sql")] }) { base in
            let c = configuration(base) { c in
                c.load.mode = .stages([LoadStage(rate: 40, duration: 0.5)])
                c.load.warmup = 0.25
                c.data.lora = [
                    WeightedModel(name: "starling/tiny", weight: 1), WeightedModel(name: "sql-lora", weight: 3),
                ]
            }
            let report = try await Benchmark(configuration: c, client: client).run()
            #expect(report.requests.count == 20, "warm-up requests are not in the report")
            #expect(report.requests.allSatisfy { $0.succeeded && $0.timing.sent >= -0.005 })
            let byModel = Dictionary(grouping: report.requests, by: \.model).mapValues(\.count)
            #expect(byModel == ["sql-lora": 15, "starling/tiny": 5])
            #expect(report.models == ["sql-lora", "starling/tiny"])
            #expect(report.workload?.contains("mix starling/tiny=1,sql-lora=3") == true)
        }
    }

    @Test func unreachableTargetWithoutAModelIsAClearError() async throws {
        let c = configuration("http://127.0.0.1:9") { c in
            c.load.mode = .stages([LoadStage(rate: 1, duration: 1)])
            c.target.timeout = 1
        }
        await #expect {
            _ = try await Benchmark(configuration: c, client: client).run()
        } throws: { error in
            "\(error)".contains("target.models (--model): not given, and http://127.0.0.1:9/v1/models failed")
        }
    }
}
