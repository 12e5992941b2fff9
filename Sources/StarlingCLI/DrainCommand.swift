import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingAPI
import StarlingGateway

/// `starling drain`: a replica's preStop hook. Waits until the model server beside it has no request running or
/// waiting (its vLLM metrics), after a settle time for gateways that learn of the deletion late, so the stop
/// signal that follows cuts no stream.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Wait until a model server has finished its requests (a preStop hook for removed replicas).",
        discussion: """
            Reads http://$POD_IP:$PORT<metrics-path> (or --url) until vllm:num_requests_running and \
            vllm:num_requests_waiting are both 0, no sooner than --settle after it starts. Exits 0 then, when the \
            server stops answering, or at --timeout; the pod's termination grace period bounds it in any case.
            """)

    @Option(help: "The server's metrics URL (default: http://$POD_IP:$PORT plus --metrics-path).")
    var url: String?

    @Option(help: "The metrics path, with the default URL.")
    var metricsPath = ServerSpec.defaultMetricsPath

    @Option(help: "Seconds to keep serving before the server may be idle enough to stop (gateways learning late).")
    var settle = DrainDefaults.settleSeconds

    @Option(help: "Seconds to wait at most (default: until the grace period ends it).")
    var timeout: Double?

    func validate() throws {
        guard settle >= 0, settle.isFinite else { throw ValidationError("--settle: must be 0 or more, got \(settle)") }
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw ValidationError("--timeout: must be positive, got \(timeout)")
        }
        if url == nil && !metricsPath.hasPrefix("/") {
            throw ValidationError("--metrics-path: must start with '/', got \"\(metricsPath)\"")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let host = environment["POD_IP"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let port = environment[WellKnown.envPort] ?? String(ServerSpec.defaultPort)
        let target = url ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(metricsPath)"
        let started = ContinuousClock.now
        let deadline = timeout.map { started + .milliseconds(Int64($0 * 1000)) }
        let settleUntil = started + .milliseconds(Int64(settle * 1000))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        var lastSaid = started
        while true {
            let now = ContinuousClock.now
            if let deadline, now >= deadline {
                print("drain: --timeout reached with requests still in flight; stopping anyway")
                return
            }
            guard let inFlight = await Self.inFlight(target, client: client) else {
                print("drain: \(target) does not answer; nothing left to wait for")
                return
            }
            if inFlight == 0 && now >= settleUntil {
                print("drain: no request running or waiting after \(now - started); done")
                return
            }
            if now - lastSaid >= .seconds(5) {
                print("drain: \(Int(inFlight)) requests still running or waiting")
                lastSaid = now
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Requests running plus waiting, or nil when the server does not answer (the autoscaler's scrape).
    static func inFlight(_ url: String, client: HTTPClient) async -> Double? {
        guard let metrics = await ScrapedAutoscaleSignals.scrape(url, client: client) else { return nil }
        return (metrics.running ?? 0) + (metrics.waiting ?? 0)
    }
}
