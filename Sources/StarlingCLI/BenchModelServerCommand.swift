import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingBench
import StarlingNodeAgent
import StarlingSimulator

#if canImport(Glibc)
import Glibc
#endif

/// `starling bench-model-server`: how much streaming load one simulator process holds in real time.
///
/// Starts `starling model-server` as a child process, keeps `--streams` streaming requests open against it (a new
/// one starts as soon as one ends), and reports the streams held, tokens/s delivered, the server's CPU per 1,000
/// tokens/s and how late its engine steps ran.
struct BenchModelServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model-server",
        abstract: "Measure how many concurrent streams one simulated model server holds on time.")

    @Option(help: "Simulator profile.")
    var profile = ProfileCatalog.llama31_8B_H100.name

    @Option(help: "Concurrent streaming requests to hold.")
    var streams = 2000

    @Option(help: "Prompt length in words (about one token each).")
    var promptWords = 200

    @Option(help: "Output tokens per request (ignore_eos).")
    var outputTokens = 300

    @Option(help: "Seconds of warm-up before measuring.")
    var warmup = 10.0

    @Option(help: "Seconds to measure.")
    var duration = 30.0

    @Option(help: "The target the run is compared with: streams that must be held.")
    var target = 2000

    func run() async throws {
        guard streams > 0, duration > 0, warmup >= 0 else {
            throw ValidationError("--streams and --duration must be positive")
        }
        guard let port = LocalPort.free() else { throw ValidationError("no free loopback port") }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let server = Process()
        server.executableURL = executable
        server.arguments = [
            "model-server", "--profile", profile, "--port", String(port), "--log-level", "warning",
        ]
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let client = BenchRunner.makeClient()
        let base = "http://127.0.0.1:\(port)"
        do {
            try await measure(client, base: base, server: server)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func measure(_ client: HTTPClient, base: String, server: Process) async throws {
        try await Self.waitForHealth(client, base)
        let model = ProfileCatalog.profile(named: profile)?.model ?? profile
        let streams = self.streams
        let outputTokens = self.outputTokens

        // Closed loop through the bench runner: `streams` clients, each starting a new stream when one ends.
        var endpoint = BenchTarget(baseURL: base, models: [model])
        endpoint.timeout = 600
        let items = PromptSource(kind: .synthetic(input: .fixed(promptWords)), output: .fixed(outputTokens), seed: 1)
            .items(count: streams * 8)
        let runner = BenchRunner(target: endpoint, client: client)
        let progress = BenchRunner.Progress()
        let start = ContinuousClock.now
        let windowEnd = start + .seconds(warmup + duration - 0.5)
        print("holding \(streams) streams against \(profile) for \(Int(warmup))s warm-up + \(Int(duration))s …")
        let load = Task {
            await runner.run(concurrency: streams, duration: warmup + duration, items: items, progress: progress)
        }
        try await Task.sleep(until: start + .seconds(warmup), clock: .continuous)
        let startTokens = progress.tokens.load(ordering: .relaxed)
        let startCPU = Self.cpuSeconds(server.processIdentifier)
        var minimum = Int.max
        var maximum = 0
        while ContinuousClock.now < windowEnd {
            try await Task.sleep(for: .milliseconds(250))
            minimum = min(minimum, progress.inFlight)
            maximum = max(maximum, progress.inFlight)
        }
        let seconds = max(duration - 0.5, 0.001)
        let tokensPerSecond = Double(progress.tokens.load(ordering: .relaxed) - startTokens) / seconds
        let cpuCores = (Self.cpuSeconds(server.processIdentifier) - startCPU) / seconds
        let failures = progress.failed.load(ordering: .relaxed)
        // Streams still open after the window are cut off; they are not failures of the server.
        load.cancel()
        _ = await load.value
        let metrics = try await Self.text(client, base + "/metrics")
        let lateness = Self.lateness(metrics)
        let cpuPer1k = cpuCores / max(tokensPerSecond / 1000, 1e-9)
        print(
            """

            profile                      \(profile)
            streams requested            \(streams)
            streams held (min in window) \(minimum)
            streams open (max)           \(maximum)
            failed streams               \(failures)
            tokens/s delivered           \(Int(tokensPerSecond))
            server CPU                   \(String(format: "%.2f", cpuCores)) cores
            server CPU per 1k tok/s      \(String(format: "%.3f", cpuPer1k)) cores
            step lateness p50 / p99      \(String(format: "%.2f", lateness.p50 * 1000)) ms / \(String(format: "%.2f", lateness.p99 * 1000)) ms
            step lateness max            \(String(format: "%.2f", lateness.max * 1000)) ms
            target                       \(target) streams held: \(minimum >= target ? "met" : "NOT met")
            """)
    }

    static func waitForHealth(_ client: HTTPClient, _ base: String) async throws {
        for _ in 0..<200 {
            if let response = try? await client.execute(HTTPClientRequest(url: base + "/health"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("the model server did not become healthy")
    }

    static func text(_ client: HTTPClient, _ url: String) async throws -> String {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        return String(buffer: try await response.body.collect(upTo: 8 << 20))
    }

    /// User + system CPU seconds of a process.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Step lateness quantiles from the server's histogram and its maximum.
    static func lateness(_ metrics: String) -> (p50: Double, p99: Double, max: Double) {
        var buckets: [(Double, Double)] = []
        var maximum = 0.0
        for line in metrics.split(separator: "\n") {
            if line.hasPrefix("starling_sim_step_lateness_max_seconds ") {
                maximum = Double(line.split(separator: " ").last ?? "") ?? 0
            }
            guard line.hasPrefix("starling_sim_step_lateness_seconds_bucket{le=\"") else { continue }
            let parts = line.split(separator: "\"")
            let bound = parts[1] == "+Inf" ? Double.infinity : Double(parts[1]) ?? 0
            buckets.append((bound, Double(line.split(separator: " ").last ?? "") ?? 0))
        }
        func quantile(_ q: Double) -> Double {
            guard let total = buckets.last?.1, total > 0 else { return 0 }
            var previous = (0.0, 0.0)
            for (bound, count) in buckets {
                if count >= q * total {
                    let upper = bound.isFinite ? bound : maximum
                    let share = (q * total - previous.1) / max(count - previous.1, 1)
                    return previous.0 + (upper - previous.0) * share
                }
                previous = (bound, count)
            }
            return maximum
        }
        return (quantile(0.5), quantile(0.99), maximum)
    }
}
