import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingNodeAgent
import StarlingSimulator
import Synchronization

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
        var pool = HTTPClient.Configuration()
        pool.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = streams + 16
        pool.timeout.read = .seconds(120)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: pool)
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

        let counters = Counters()
        let prompt = (0..<promptWords).map { "w\($0 % 97)" }.joined(separator: " ")
        let start = ContinuousClock.now
        let end = start + .seconds(warmup + duration)
        print("holding \(streams) streams against \(profile) for \(Int(warmup))s warm-up + \(Int(duration))s …")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<streams {
                group.addTask {
                    var n = i
                    while ContinuousClock.now < end {
                        n += streams
                        try await Self.stream(
                            client, base, model: model, prompt: "\(n) \(prompt)", tokens: outputTokens, counters,
                            until: end)
                    }
                }
            }
            group.addTask {
                try await Task.sleep(until: start + .seconds(warmup), clock: .continuous)
                counters.markWindow(cpu: Self.cpuSeconds(server.processIdentifier))
                var minimum = Int.max
                while ContinuousClock.now < end - .seconds(0.5) {
                    try await Task.sleep(for: .milliseconds(250))
                    minimum = min(minimum, counters.active.load(ordering: .relaxed))
                }
                counters.windowMinimumActive.store(minimum, ordering: .relaxed)
                counters.markWindowEnd(cpu: Self.cpuSeconds(server.processIdentifier))
            }
            try await group.waitForAll()
        }
        let metrics = try await Self.text(client, base + "/metrics")
        let report = counters.report(duration: duration)
        let lateness = Self.lateness(metrics)
        let cpuPer1k = report.cpuCores / max(report.tokensPerSecond / 1000, 1e-9)
        print(
            """

            profile                      \(profile)
            streams requested            \(streams)
            streams held (min in window) \(report.minimumActive)
            streams open (max)           \(report.maximumActive)
            failed streams               \(report.failures)
            tokens/s delivered           \(Int(report.tokensPerSecond))
            server CPU                   \(String(format: "%.2f", report.cpuCores)) cores
            server CPU per 1k tok/s      \(String(format: "%.3f", cpuPer1k)) cores
            step lateness p50 / p99      \(String(format: "%.2f", lateness.p50 * 1000)) ms / \(String(format: "%.2f", lateness.p99 * 1000)) ms
            step lateness max            \(String(format: "%.2f", lateness.max * 1000)) ms
            target                       \(target) streams held: \(report.minimumActive >= target ? "met" : "NOT met")
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

    static func stream(
        _ client: HTTPClient, _ base: String, model: String, prompt: String, tokens: Int, _ counters: Counters,
        until end: ContinuousClock.Instant
    ) async throws {
        var request = HTTPClientRequest(url: base + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(
            ByteBuffer(
                string: #"{"model":"\#(model)","prompt":"\#(prompt)","#
                    + #""max_tokens":\#(tokens),"ignore_eos":true,"stream":true}"#))
        counters.open()
        defer { counters.close() }
        do {
            let response = try await client.execute(request, timeout: .seconds(600))
            guard response.status == .ok else {
                counters.failures.add(1, ordering: .relaxed)
                _ = try? await response.body.collect(upTo: 1 << 20)
                return
            }
            var last: UInt8 = 0
            for try await buffer in response.body {
                var events = 0
                buffer.withUnsafeReadableBytes { bytes in
                    for byte in bytes {
                        if byte == 10 && last == 10 { events += 1 }
                        last = byte
                    }
                }
                counters.tokens(events)
                if ContinuousClock.now >= end { return }
            }
        } catch {
            if ContinuousClock.now < end { counters.failures.add(1, ordering: .relaxed) }
        }
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

    /// Shared counters of the load generator.
    final class Counters: Sendable {
        let active = Atomic<Int>(0)
        let maximumActive = Atomic<Int>(0)
        let windowMinimumActive = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let received = Atomic<Int>(0)
        private let window = Mutex<(startTokens: Int, endTokens: Int, startCPU: Double, endCPU: Double)>((0, 0, 0, 0))

        func open() {
            let now = active.add(1, ordering: .relaxed).newValue
            maximumActive.max(now, ordering: .relaxed)
        }
        func close() { active.subtract(1, ordering: .relaxed) }
        func tokens(_ n: Int) { received.add(n, ordering: .relaxed) }
        func markWindow(cpu: Double) {
            let tokens = received.load(ordering: .relaxed)
            window.withLock {
                $0.startTokens = tokens; $0.startCPU = cpu
            }
        }
        func markWindowEnd(cpu: Double) {
            let tokens = received.load(ordering: .relaxed)
            window.withLock {
                $0.endTokens = tokens; $0.endCPU = cpu
            }
        }

        func report(
            duration: Double
        ) -> (
            minimumActive: Int, maximumActive: Int, failures: Int, tokensPerSecond: Double, cpuCores: Double
        ) {
            let w = window.withLock { $0 }
            let seconds = max(duration - 0.5, 0.001)
            return (
                windowMinimumActive.load(ordering: .relaxed), maximumActive.load(ordering: .relaxed),
                failures.load(ordering: .relaxed), Double(w.endTokens - w.startTokens) / seconds,
                (w.endCPU - w.startCPU) / seconds
            )
        }
    }
}
