import ArgumentParser
import Dispatch
import Foundation
import StarlingBench
import Synchronization

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
            128, uniform:MIN,MAX, normal:MEAN,SD,MIN,MAX or lognormal:MEDIAN,SIGMA,MIN,MAX. A --config YAML file
            holds the same settings (docs/bench.md); flags override it.
            """)

    @Option(help: "YAML (or JSON) configuration file; flags override its fields.")
    var config: String?

    @Option(help: "Base URL of the endpoint (gateway, model server, router).")
    var url: String?

    @Option(help: "Model name; repeat for an even mix (default: the first model the endpoint lists).")
    var model: [String] = []

    @Option(help: "Model or adapter with a weight, NAME=WEIGHT; repeat for a LoRA mix.")
    var lora: [String] = []

    @Option(help: "API: completions or chat.")
    var api: String?

    @Flag(inversion: .prefixedNo, help: "Stream responses (default on; without it TTFT equals end-to-end latency).")
    var stream: Bool?

    @Option(help: "A load stage RATE:DURATION (requests/s : seconds); repeat for several.")
    var stage: [String] = []

    @Option(help: "Requests per second (one stage; with --duration).")
    var rate: Double?

    @Option(help: "Seconds of load for --rate or --concurrency (or of each sweep stage). Default 30.")
    var duration: Double?

    @Option(help: "Arrivals: constant or poisson (default).")
    var arrivals: String?

    @Option(help: "Closed loop: keep this many requests in flight instead of a rate.")
    var concurrency: Int?

    @Option(help: "Saturation sweep: probe the most requests/s, then run stages at these fractions (0.25,0.5,1).")
    var sweep: String?

    @Option(help: "Requests in flight while the sweep probes saturation (default 256).")
    var sweepProbeConcurrency: Int?

    @Option(help: "Seconds the sweep probe runs (default 30; the second half is measured).")
    var sweepProbeDuration: Double?

    @Option(help: "Prompt length in tokens, a distribution (default lognormal:161,0.8,4,2048).")
    var inputLen: String?

    @Option(
        help: "Output length, a distribution sent as max_tokens with ignore_eos (default lognormal:338,0.8,4,2048).")
    var outputLen: String?

    @Option(help: "Shared-prefix prompts GROUPS,PREFIX_LEN,QUESTION_LEN,QUESTIONS_PER_GROUP.")
    var sharedPrefix: String?

    @Option(help: "Multi-turn chat sessions SESSIONS[,TURNS] resending their history (needs --api chat).")
    var multiTurn: String?

    @Option(help: "Conversations from a ShareGPT-layout JSON or JSONL file.")
    var dataset: String?

    @Option(help: "Extra request header NAME:VALUE (repeatable).")
    var header: [String] = []

    @Option(
        help:
            "Response header naming the serving endpoint (default x-gateway-destination-endpoint, and Starling's x-starling-endpoint)."
    )
    var endpointHeader: String?

    @Option(help: "Request header carrying a multi-turn session's id (default x-session-id; \"\" sends none).")
    var sessionHeader: String?

    @Flag(help: "Also send a multi-turn session's id as OpenAI's `user` field.")
    var sessionUser = false

    @Option(help: "Per-request timeout, seconds (default 300).")
    var timeout: Double?

    @Option(help: "Seed for arrivals and prompts (default 0).")
    var seed: UInt64?

    @Option(help: "SLO: largest time to first token, milliseconds.")
    var sloTtftMs: Double?

    @Option(help: "SLO: largest time per output token, milliseconds.")
    var sloTpotMs: Double?

    @Option(help: "Seconds of load before measuring (at the first stage's rate); left out of the report.")
    var warmup: Double?

    @Option(help: "Write the JSON report here.")
    var json: String?

    @Option(help: "Write a self-contained HTML report with charts here.")
    var html: String?

    func run() async throws {
        do {
            try await execute()
        } catch let error as BenchConfigurationError {
            throw ValidationError(error.description)
        }
    }

    /// Seconds an interrupted run waits for requests in flight before ending them.
    static let interruptGrace: Duration = .seconds(5)

    func execute() async throws {
        let configuration = try merged()
        let client = BenchRunner.makeClient()
        defer { Task { try? await client.shutdown() } }
        let benchmark = Benchmark(configuration: configuration, client: client)
        let progress = BenchRunner.Progress()
        let reporter = Task { [total = benchmark.plannedDuration, warmup = configuration.load.warmup] in
            await Self.report(progress, totalSeconds: total, warmup: warmup)
        }
        defer { reporter.cancel() }
        let run = Task { try await benchmark.run(progress: progress) { line in print(line) } }
        // Ctrl-C: stop sending, give requests in flight a few seconds, then report what ran. A second Ctrl-C ends
        // them at once.
        let interrupts = Atomic<Int>(0)
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if interrupts.add(1, ordering: .relaxed).newValue == 1 {
                progress.requestStop()
                FileHandle.standardError.write(
                    Data(
                        "\ninterrupted: no new requests; waiting up to \(Self.interruptGrace) for \(progress.inFlight) in flight (Ctrl-C again to stop now)\n"
                            .utf8))
                Task {
                    try? await Task.sleep(for: Self.interruptGrace)
                    run.cancel()
                }
            } else {
                run.cancel()
            }
        }
        source.resume()
        defer {
            source.cancel()
            signal(SIGINT, SIG_DFL)
        }
        let report = try await run.value
        reporter.cancel()
        if report.interrupted == true { print("\nINTERRUPTED: the figures cover the part of the run that ran.") }
        print("\n" + SummaryTable.render(report))
        if let path = configuration.output.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: path))
            print("\nJSON report: \(path)")
        }
        if let path = configuration.output.html {
            try HTMLReport.render(report).write(toFile: path, atomically: true, encoding: .utf8)
            print("HTML report: \(path)")
        }
        // 128 + SIGINT, as a shell reports a program that Ctrl-C ended.
        if report.interrupted == true { throw ExitCode(130) }
    }

    /// The configuration file (if any) with the flags given applied on top.
    func merged() throws(BenchConfigurationError) -> BenchConfiguration {
        var c = BenchConfiguration()
        if let config { c = try BenchConfiguration.load(path: config) }
        if let url { c.target.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url }
        if !model.isEmpty { c.target.models = model }
        if !lora.isEmpty {
            c.data.lora = []
            for entry in lora { c.data.lora.append(try WeightedModel.parse(entry, field: "--lora")) }
        }
        if let api {
            guard let parsed = BenchTarget.API(rawValue: api) else {
                throw BenchConfigurationError("--api: \"\(api)\" is not one of completions, chat")
            }
            c.target.api = parsed
        }
        if let stream { c.target.stream = stream }
        if !header.isEmpty {
            c.target.headers = []
            for entry in header {
                let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw BenchConfigurationError("--header: \"\(entry)\" is not NAME:VALUE")
                }
                c.target.headers.append((parts[0], parts[1]))
            }
        }
        if let timeout { c.target.timeout = timeout }
        if let endpointHeader { c.target.endpointHeader = endpointHeader }
        if let sessionHeader { c.target.sessionHeader = sessionHeader.isEmpty ? nil : sessionHeader }
        if sessionUser { c.target.sessionUser = true }
        if let seed { c.seed = seed }
        if let warmup { c.load.warmup = warmup }
        if let arrivals {
            guard let process = ArrivalProcess(rawValue: arrivals) else {
                throw BenchConfigurationError("--arrivals: \"\(arrivals)\" is not one of constant, poisson")
            }
            c.load.arrivals = process
        }
        try applyLoadMode(&c)
        if let inputLen { c.data.input = try LengthDistribution.parse(inputLen, field: "--input-len") }
        if let outputLen { c.data.output = try LengthDistribution.parse(outputLen, field: "--output-len") }
        if let sharedPrefix {
            let v = sharedPrefix.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 4 else {
                throw BenchConfigurationError(
                    "--shared-prefix: \"\(sharedPrefix)\" is not GROUPS,PREFIX_LEN,QUESTION_LEN,QUESTIONS_PER_GROUP")
            }
            c.data.sharedPrefix = .init(groups: v[0], prefixLength: v[1], questionLength: v[2], questionsPerGroup: v[3])
        }
        if let multiTurn {
            let v = multiTurn.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 1 || v.count == 2 else {
                throw BenchConfigurationError("--multi-turn: \"\(multiTurn)\" is not SESSIONS or SESSIONS,TURNS")
            }
            c.data.multiTurn = .init(sessions: v[0], turns: v.count == 2 ? v[1] : 4)
        }
        if let dataset { c.data.dataset = dataset }
        if sloTtftMs != nil || sloTpotMs != nil {
            var slo = c.slo ?? ServiceLevelObjective()
            if let sloTtftMs { slo.timeToFirstToken = sloTtftMs / 1000 }
            if let sloTpotMs { slo.timePerOutputToken = sloTpotMs / 1000 }
            c.slo = slo
        }
        if let json { c.output.json = json }
        if let html { c.output.html = html }
        try c.validate()
        return c
    }

    /// --stage, --rate, --concurrency and --sweep each replace the file's load mode; --duration sets the length
    /// of whichever mode has one.
    func applyLoadMode(_ c: inout BenchConfiguration) throws(BenchConfigurationError) {
        let given = [
            ("--stage", !stage.isEmpty), ("--rate", rate != nil), ("--concurrency", concurrency != nil),
            ("--sweep", sweep != nil),
        ].filter { $0.1 }.map { $0.0 }
        guard given.count <= 1 else {
            throw BenchConfigurationError("\(given[1]) cannot be combined with \(given[0]); give one load mode")
        }
        if !stage.isEmpty {
            if duration != nil { throw BenchConfigurationError("--duration does not apply to --stage RATE:DURATION") }
            var stages: [LoadStage] = []
            for (i, text) in stage.enumerated() {
                let parts = text.split(separator: ":").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard parts.count == 2, let r = parts[0], let d = parts[1] else {
                    throw BenchConfigurationError("--stage[\(i)]: \"\(text)\" is not RATE:DURATION")
                }
                stages.append(LoadStage(rate: r, duration: d))
            }
            c.load.mode = .stages(stages)
        } else if let rate {
            c.load.mode = .stages([LoadStage(rate: rate, duration: duration ?? 30)])
        } else if let concurrency {
            c.load.mode = .concurrency(concurrency, duration: duration ?? 30)
        } else if let sweep {
            var parameters = BenchConfiguration.Sweep()
            if case .sweep(let existing)? = c.load.mode { parameters = existing }
            let fractions = sweep.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !fractions.isEmpty, fractions.allSatisfy({ $0 != nil }) else {
                throw BenchConfigurationError("--sweep: \"\(sweep)\" is not a list of fractions such as 0.25,0.5,1")
            }
            parameters.fractions = fractions.compactMap { $0 }
            if let duration { parameters.stageDuration = duration }
            c.load.mode = .sweep(parameters)
        } else if let duration {
            switch c.load.mode {
            case .concurrency(let n, _)?: c.load.mode = .concurrency(n, duration: duration)
            case .stages(let stages)? where stages.count == 1:
                c.load.mode = .stages([LoadStage(rate: stages[0].rate, duration: duration)])
            case .sweep(var parameters)?:
                parameters.stageDuration = duration
                c.load.mode = .sweep(parameters)
            default:
                throw BenchConfigurationError(
                    "--duration: needs --rate, --concurrency, --sweep or one configured stage")
            }
        }
        if sweepProbeConcurrency != nil || sweepProbeDuration != nil {
            guard case .sweep(var parameters)? = c.load.mode else {
                throw BenchConfigurationError("--sweep-probe-concurrency and --sweep-probe-duration need a sweep")
            }
            if let sweepProbeConcurrency { parameters.probeConcurrency = sweepProbeConcurrency }
            if let sweepProbeDuration { parameters.probeDuration = sweepProbeDuration }
            c.load.mode = .sweep(parameters)
        }
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
