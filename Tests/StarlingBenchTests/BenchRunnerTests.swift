import AsyncHTTPClient
import Foundation
import Logging
import StarlingTokenizer
import Testing

@testable import StarlingBench
@testable import StarlingSimulator

/// Runs `starling model-server`'s engine and HTTP front in-process on a free loopback port.
func withSimulator(
    edit: (inout ModelServerConfiguration) -> Void = { _ in }, _ body: (String) async throws -> Void
) async throws {
    var configuration = ModelServerConfiguration(engine: EngineConfiguration(profile: ProfileCatalog.tiny))
    configuration.port = 0
    edit(&configuration)
    let server = ModelServer(configuration: configuration, logger: Logger(label: "test"))
    try await server.withRunning { port in try await body("http://127.0.0.1:\(port)") }
}

/// A value from the server's `/metrics`.
func metric(_ base: String, _ prefix: String) async throws -> Double {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/metrics"), timeout: .seconds(5))
    let text = String(buffer: try await response.body.collect(upTo: 1 << 22))
    let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(prefix) }, "no \(prefix)")
    return try #require(Double(line.split(separator: " ").last ?? ""))
}

@Suite(.serialized) final class BenchRunnerTests {
    let client = BenchRunner.makeClient()

    deinit { try? client.syncShutdown() }

    @Test(arguments: [BenchTarget.API.completions, .chat])
    func measuredTokensAndTTFTAgreeWithTheSimulatorsOwnMetrics(api: BenchTarget.API) async throws {
        try await withSimulator { base in
            var target = BenchTarget(baseURL: base, models: ["starling/tiny"])
            target.api = api
            let schedule = ArrivalSchedule(stages: [LoadStage(rate: 20, duration: 1.5)], process: .poisson, seed: 5)
            let items = PromptSource(kind: .synthetic(input: .uniform(min: 50, max: 150)), output: .fixed(24), seed: 5)
                .items(count: schedule.arrivals.count)
            let runner = BenchRunner(target: target, client: client)
            let run = Task { await runner.run(schedule: schedule, items: items) }
            // HTTP round trips to the same server while the run goes on: what the client adds to the engine's TTFT
            // on this machine right now (large when other test processes compete for the two cores).
            var roundTrips: [Double] = []
            for _ in 0..<25 {
                let start = ContinuousClock.now
                _ = try await client.execute(HTTPClientRequest(url: base + "/health"), timeout: .seconds(10))
                roundTrips.append((ContinuousClock.now - start).seconds)
                try await Task.sleep(for: .milliseconds(40))
            }
            let records = await run.value
            #expect(records.count == schedule.arrivals.count)
            #expect(records.allSatisfy { $0.succeeded }, "\(records.compactMap(\.error))")
            #expect(records.allSatisfy { $0.outputTokens == 24 && $0.timing.outputTokens == 24 })

            let generated = try await metric(base, "vllm:generation_tokens_total")
            #expect(Int(generated) == records.reduce(0) { $0 + $1.outputTokens })
            let prompt = try await metric(base, "vllm:prompt_tokens_total")
            #expect(Int(prompt) == records.reduce(0) { $0 + ($1.inputTokens ?? 0) })

            // The client's TTFT adds only the HTTP hop to the engine's: within 5 ms + 25% of the server's mean plus
            // twice the slowest round trip measured alongside.
            let serverTTFT =
                try await metric(base, "vllm:time_to_first_token_seconds_sum")
                / metric(base, "vllm:time_to_first_token_seconds_count")
            let summary = StageSummary(stage: 0, duration: 1.5, records: records, slo: nil)
            let clientTTFT = try #require(summary.timeToFirstToken?.mean)
            let hop = roundTrips.max() ?? 0
            #expect(
                abs(clientTTFT - serverTTFT) < 0.005 + 0.25 * serverTTFT + 2 * hop,
                "client \(clientTTFT) server \(serverTTFT) slowest round trip \(hop)")
            #expect(clientTTFT > serverTTFT * 0.9, "the client cannot see the first token before the engine makes it")
        }
    }

    @Test func openLoopKeepsItsScheduleWhenTheServerIsSlow() async throws {
        // One sequence at a time and long outputs: the queue grows for the whole run.
        try await withSimulator(edit: { $0.engine.maxNumSeqs = 1 }) { base in
            let target = BenchTarget(baseURL: base, models: ["starling/tiny"])
            let schedule = ArrivalSchedule(stages: [LoadStage(rate: 25, duration: 1)], process: .constant, seed: 1)
            let items = PromptSource(kind: .synthetic(input: .fixed(20)), output: .fixed(60), seed: 1)
                .items(count: schedule.arrivals.count)
            let runner = BenchRunner(target: target, client: client)
            let run = Task { await runner.run(schedule: schedule, items: items) }
            // The queue must build up at the server, not inside the client's connection pool.
            var maxWaiting = 0.0
            while maxWaiting < 15 {
                maxWaiting = max(maxWaiting, try await metric(base, "vllm:num_requests_waiting"))
                try await Task.sleep(for: .milliseconds(20))
                if try await metric(
                    base,
                    "vllm:request_success_total{engine=\"0\",model_name=\"starling/tiny\",finished_reason=\"length\"}")
                    >= 20
                {
                    break
                }
            }
            #expect(maxWaiting >= 15, "only \(maxWaiting) requests waited at the server")
            let records = await run.value
            let summary = StageSummary(stage: 0, duration: 1, records: records, slo: nil)
            let e2e = try #require(summary.endToEndLatency)
            let lag = try #require(summary.sendLag)
            #expect(e2e.max > 3, "the server was not slow: \(e2e.max) s")
            // Sends that waited for replies would lag by about as long as the slowest reply (over 3 s); a two-core
            // machine busy with the suites alongside (a Kubernetes control plane among them) can delay a send by up
            // to a second, so the bound is half the slowest reply.
            #expect(lag.p99 < e2e.max / 2, "sends fell behind the schedule: p99 lag \(lag.p99) s")
        }
    }

    @Test func concurrencyModeKeepsNRequestsInFlight() async throws {
        try await withSimulator { base in
            let target = BenchTarget(baseURL: base, models: ["starling/tiny"])
            let items = PromptSource(kind: .synthetic(input: .fixed(10)), output: .fixed(8), seed: 2).items(count: 50)
            let progress = BenchRunner.Progress()
            let records = await BenchRunner(target: target, client: client).run(
                concurrency: 4, duration: 0.5, items: items, progress: progress)
            #expect(records.count >= 8)
            #expect(records.allSatisfy { $0.succeeded })
            #expect(progress.inFlight == 0)
        }
    }

    @Test func errorsAreClassified() async throws {
        try await withSimulator { base in
            let target = BenchTarget(baseURL: base, models: ["no-such-model"])
            let schedule = ArrivalSchedule(stages: [LoadStage(rate: 10, duration: 0.3)], process: .constant, seed: 1)
            let items = PromptSource(kind: .synthetic(input: .fixed(10)), output: .fixed(8), seed: 1).items(count: 3)
            let records = await BenchRunner(target: target, client: client).run(schedule: schedule, items: items)
            #expect(records.allSatisfy { $0.error == "http_4xx" && $0.status == 404 })
        }
        var dead = BenchTarget(baseURL: "http://127.0.0.1:9", models: ["m"])
        dead.timeout = 2
        let schedule = ArrivalSchedule(stages: [LoadStage(rate: 10, duration: 0.1)], process: .constant, seed: 1)
        let items = PromptSource(kind: .synthetic(input: .fixed(10)), output: .fixed(8), seed: 1).items(count: 1)
        let records = await BenchRunner(target: dead, client: client).run(schedule: schedule, items: items)
        #expect(records.first?.error == "connection")
    }
}
