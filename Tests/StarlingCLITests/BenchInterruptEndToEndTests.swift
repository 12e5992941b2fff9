import AsyncHTTPClient
import Foundation
import StarlingBench
import Testing

#if canImport(Glibc)
import Glibc
import StarlingTestSupport
#endif

/// Ctrl-C during `starling bench run`: it stops sending, writes the partial report marked as interrupted and exits
/// with 130.
@Suite(.serialized) struct BenchInterruptEndToEndTests {
    @Test func ctrlCWritesAPartialReportAndExits130() async throws {
        let servers = try await ModelServerProcess.start(1)
        defer { servers.forEach { $0.stop() } }
        let dir = try scratchDirectory("bench-int")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: StarlingProcess.binary)
        process.arguments = [
            "bench", "run", "--url", servers[0].baseURL, "--api", "chat", "--rate", "10", "--duration", "60",
            "--multi-turn", "4,3", "--input-len", "16", "--output-len", "8", "--json", "\(dir)/report.json",
        ]
        let outputPath = "\(dir)/bench.log"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = out
        process.standardError = out
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let metrics = servers[0].baseURL + "/metrics"
        try await waitUntil("requests to finish", timeout: .seconds(30)) {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: metrics), timeout: .seconds(5))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 22))
            let done = text.split(separator: "\n").filter { $0.hasPrefix("vllm:request_success_total") }
                .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
            return done >= 5
        }
        kill(process.processIdentifier, SIGINT)
        let interruptedAt = ContinuousClock.now
        try await waitUntil("bench to exit", timeout: .seconds(15)) { !process.isRunning }
        #expect(ContinuousClock.now - interruptedAt < .seconds(8))
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 130, "\(output)")
        #expect(output.contains("INTERRUPTED"))
        let report = try JSONDecoder().decode(
            BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/report.json")))
        #expect(report.interrupted == true)
        #expect(!report.requests.isEmpty && report.requests.count < 600)
        #expect(report.overall.duration < 30)
    }
}
