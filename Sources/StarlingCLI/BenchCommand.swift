import ArgumentParser
import Foundation
import StarlingBench

/// `starling bench`: `run` (the default) and `compare`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark OpenAI-compatible serving: run load (default) or compare reports.",
        subcommands: [BenchRunCommand.self, BenchCompareCommand.self],
        defaultSubcommand: BenchRunCommand.self)
}

/// `starling bench [run]`: drive an OpenAI-compatible endpoint with open-loop (or closed-loop) load and report.
struct BenchRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Load an OpenAI-compatible endpoint and report TTFT, inter-token latency, throughput and goodput.",
        discussion: """
            Open loop by default: arrivals are planned before the run (constant or Poisson) and sent on time even
            when the server is slow; the report says how late sends were. Lengths take a distribution:
            128, uniform:MIN,MAX, normal:MEAN,SD,MIN,MAX or lognormal:MEDIAN,SIGMA,MIN,MAX.
            """)

    @Option(help: "Base URL of the endpoint (gateway, model server, router).")
    var url: String

    @Option(help: "Model name; repeat for a mix (e.g. LoRA adapters; repeat a name to weight it).")
    var model: [String] = []

    @Option(help: "API: completions or chat.")
    var api: String = "completions"

    @Flag(help: "Send non-streaming requests (TTFT then equals end-to-end latency).")
    var noStream = false

    @Option(help: "A load stage RATE:DURATION (requests/s : seconds); repeat for several.")
    var stage: [String] = []

    @Option(help: "Requests per second (one stage; with --duration).")
    var rate: Double?

    @Option(help: "Seconds of load for --rate or --concurrency.")
    var duration: Double = 30

    @Option(help: "Arrivals: constant or poisson.")
    var arrivals: String = "poisson"

    @Option(help: "Closed loop: keep this many requests in flight instead of a rate.")
    var concurrency: Int?

    @Option(help: "Prompt length in tokens (a distribution).")
    var inputLen: String = "lognormal:161,0.8,4,2048"

    @Option(help: "Output length in tokens (a distribution; sent as max_tokens with ignore_eos).")
    var outputLen: String = "lognormal:338,0.8,4,2048"

    @Option(help: "Shared-prefix prompts GROUPS,PREFIX_LEN,QUESTION_LEN,QUESTIONS_PER_GROUP (replaces --input-len).")
    var sharedPrefix: String?

    @Option(help: "Extra request header NAME:VALUE (repeatable).")
    var header: [String] = []

    @Option(help: "Per-request timeout, seconds.")
    var timeout: Double = 300

    @Option(help: "Seed for arrivals and prompts.")
    var seed: UInt64 = 0

    @Option(help: "SLO: largest time to first token, milliseconds.")
    var sloTtftMs: Double?

    @Option(help: "SLO: largest time per output token, milliseconds.")
    var sloTpotMs: Double?

    @Option(help: "Seconds of load before measuring (at the first stage's rate); left out of the report.")
    var warmup: Double = 0

    @Option(help: "Write the JSON report here.")
    var json: String?

    func run() async throws {
        do {
            try await execute()
        } catch let error as BenchConfigurationError {
            throw ValidationError(error.description)
        }
    }

    func execute() async throws {
        guard let parsedURL = URL(string: url), parsedURL.scheme == "http" || parsedURL.scheme == "https",
            parsedURL.host != nil
        else {
            throw BenchConfigurationError("--url: \"\(url)\" is not an http(s) URL")
        }
        guard let api = BenchTarget.API(rawValue: api) else {
            throw BenchConfigurationError("--api: \"\(self.api)\" is not one of completions, chat")
        }
        guard let process = ArrivalProcess(rawValue: arrivals) else {
            throw BenchConfigurationError("--arrivals: \"\(arrivals)\" is not one of constant, poisson")
        }
        guard duration > 0 else { throw BenchConfigurationError("--duration: must be positive, got \(duration)") }
        guard timeout > 0 else { throw BenchConfigurationError("--timeout: must be positive, got \(timeout)") }
        var target = BenchTarget(baseURL: url, models: model.isEmpty ? [] : model)
        if target.models.isEmpty { target.models = [try await Self.firstModel(url)] }
        target.api = api
        target.stream = !noStream
        target.timeout = timeout
        target.headers = try header.map { entry in
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw BenchConfigurationError("--header: \"\(entry)\" is not NAME:VALUE")
            }
            return (parts[0], parts[1])
        }
        let output = try LengthDistribution.parse(outputLen, field: "--output-len")
        let kind: PromptSource.Kind
        if let sharedPrefix {
            let v = sharedPrefix.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 4, v.allSatisfy({ $0 >= 1 }) else {
                throw BenchConfigurationError(
                    "--shared-prefix: \"\(sharedPrefix)\" is not GROUPS,PREFIX_LEN,QUESTION_LEN,QUESTIONS_PER_GROUP "
                        + "(each at least 1)")
            }
            kind = .sharedPrefix(groups: v[0], prefixLength: v[1], questionLength: v[2], questionsPerGroup: v[3])
        } else {
            kind = .synthetic(input: try LengthDistribution.parse(inputLen, field: "--input-len"))
        }
        let slo =
            sloTtftMs == nil && sloTpotMs == nil
            ? nil
            : ServiceLevelObjective(
                timeToFirstToken: sloTtftMs.map { $0 / 1000 }, timePerOutputToken: sloTpotMs.map { $0 / 1000 })
        let source = PromptSource(kind: kind, output: output, seed: seed)
        let client = BenchRunner.makeClient()
        defer { Task { try? await client.shutdown() } }
        let runner = BenchRunner(target: target, client: client)
        let progress = BenchRunner.Progress()
        guard warmup >= 0 else { throw BenchConfigurationError("--warmup: must not be negative, got \(warmup)") }
        let total = warmup + (concurrency != nil ? duration : try stageList().reduce(0) { $0 + $1.duration })
        let reporter = Task { [warmup] in await Self.report(progress, totalSeconds: total, warmup: warmup) }
        defer { reporter.cancel() }

        let records: [RequestRecord]
        let durations: [Double]
        let mode: String
        if let concurrency {
            guard concurrency >= 1 else { throw BenchConfigurationError("--concurrency: must be at least 1") }
            guard stage.isEmpty && rate == nil else {
                throw BenchConfigurationError("--concurrency cannot be combined with --stage or --rate")
            }
            mode = "concurrency \(concurrency)"
            durations = [duration]
            let all = await runner.run(
                concurrency: concurrency, duration: warmup + duration, items: source.items(count: 100_000),
                progress: progress)
            records = all.filter { $0.timing.sent >= warmup }
        } else {
            let stages = try stageList()
            let warmupStages = warmup > 0 ? [LoadStage(rate: stages[0].rate, duration: warmup)] : []
            let schedule = ArrivalSchedule(stages: warmupStages + stages, process: process, seed: seed)
            mode = "open loop, \(process.rawValue) arrivals"
            durations = stages.map(\.duration)
            print("sending \(schedule.arrivals.count) requests over \(Int(schedule.totalDuration)) s to \(url) …")
            let all = await runner.run(
                schedule: schedule, items: source.items(count: schedule.arrivals.count), progress: progress)
            let skip = warmupStages.count
            records = all.filter { $0.stage >= skip }.map { record in
                var shifted = record
                shifted.stage -= skip
                return shifted
            }
        }
        reporter.cancel()
        let report = BenchReport(
            target: target, mode: mode, seed: seed, slo: slo, stageDurations: durations, records: records)
        print("\n" + SummaryTable.render(report))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            print("\nJSON report: \(json)")
        }
    }

    func stageList() throws(BenchConfigurationError) -> [LoadStage] {
        if let rate {
            guard stage.isEmpty else { throw BenchConfigurationError("--rate cannot be combined with --stage") }
            guard rate > 0 else { throw BenchConfigurationError("--rate: must be positive, got \(rate)") }
            return [LoadStage(rate: rate, duration: duration)]
        }
        guard !stage.isEmpty else {
            throw BenchConfigurationError("give --rate, one or more --stage RATE:DURATION, or --concurrency")
        }
        var stages: [LoadStage] = []
        for (i, text) in stage.enumerated() {
            let parts = text.split(separator: ":").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let r = parts[0], let d = parts[1], r > 0, d > 0 else {
                throw BenchConfigurationError(
                    "--stage[\(i)]: \"\(text)\" is not RATE:DURATION with a positive rate and duration")
            }
            stages.append(LoadStage(rate: r, duration: d))
        }
        return stages
    }

    /// The first model the endpoint lists, when no --model is given.
    static func firstModel(_ base: String) async throws -> String {
        let url = URL(string: base.hasSuffix("/") ? base + "v1/models" : base + "/v1/models")!
        let (data, _) = try await URLSession.shared.data(from: url)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let first = (object["data"] as? [[String: Any]])?.first?["id"] as? String
        else {
            throw BenchConfigurationError("--model: not given, and \(url) lists no model")
        }
        return first
    }

    /// Progress once a second: a bar redrawn in place on a terminal, a plain line otherwise.
    static func report(_ progress: BenchRunner.Progress, totalSeconds: Double, warmup: Double) async {
        let terminal = isatty(STDOUT_FILENO) == 1
        let start = ContinuousClock.now
        var lastTokens = 0
        var lastDone = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { break }
            let tokens = progress.tokens.load(ordering: .relaxed)
            let done = progress.finished.load(ordering: .relaxed)
            let elapsed = Int((ContinuousClock.now - start).components.seconds)
            let ttft = progress.recentMedianTTFT.map { String(format: "%.0f ms", $0 * 1000) } ?? "-"
            let phase = Double(elapsed) < warmup ? " (warm-up)" : ""
            let line =
                "\(elapsed)s\(phase)  \(done - lastDone) req/s  in flight \(progress.inFlight)  "
                + "failed \(progress.failed.load(ordering: .relaxed))  \(tokens - lastTokens) tok/s  p50 TTFT \(ttft)"
            if terminal {
                let filled = min(20, Int(20 * Double(elapsed) / max(totalSeconds, 1)))
                let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "]"
                print("\r\u{1B}[2K\(bar) \(line)", terminator: "")
                fflush(nil)
            } else {
                print(line)
            }
            lastTokens = tokens
            lastDone = done
        }
        if terminal { print("") }
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `starling bench compare A.json B.json ...`: overall figures side by side with ratios to the first report.
struct BenchCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Compare JSON reports side by side, with ratios to the first.")

    @Argument(help: "Two or more JSON reports written by starling bench --json.")
    var reports: [String]

    func run() throws {
        guard reports.count >= 2 else { throw ValidationError("compare needs at least two reports") }
        do {
            print(ReportComparison.render(try ReportComparison.load(reports)))
        } catch {
            throw ValidationError(error.description)
        }
    }
}
