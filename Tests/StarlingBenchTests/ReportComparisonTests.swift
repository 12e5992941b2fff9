import Foundation
import Testing

@testable import StarlingBench

@Suite struct ReportComparisonTests {
    func report(ttft: Double, requests: Int) -> BenchReport {
        let records = (0..<requests).map { i in
            RequestRecord(
                stage: 0, model: "m",
                timing: RequestTiming(
                    scheduled: Double(i), sent: Double(i),
                    chunks: [
                        .init(time: Double(i) + ttft, tokens: 1), .init(time: Double(i) + ttft + 0.01, tokens: 1),
                    ],
                    end: Double(i) + ttft + 0.01),
                inputTokens: 10, outputTokens: 2, status: 200, error: nil, endpoint: nil)
        }
        return BenchReport(
            target: BenchTarget(baseURL: "http://x", models: ["m"]), mode: "test", seed: 0, slo: nil,
            stages: [.init(start: 0, duration: Double(requests))], records: records)
    }

    @Test func reportsRoundTripThroughJSONAndCompareWithRatios() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.json")
        let b = dir.appendingPathComponent("b.json")
        try JSONEncoder().encode(report(ttft: 0.1, requests: 10)).write(to: a)
        try JSONEncoder().encode(report(ttft: 0.2, requests: 10)).write(to: b)
        let loaded = try ReportComparison.load([a.path, b.path])
        #expect(loaded[0].report == report(ttft: 0.1, requests: 10))
        let table = ReportComparison.render(loaded)
        let ttftLine = try #require(table.split(separator: "\n").first { $0.hasPrefix("TTFT p50 ms") })
        #expect(ttftLine.contains("100") && ttftLine.contains("200 (2.00x)"), "\(ttftLine)")
    }

    @Test func unreadableOrForeignFilesAreNamed() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-\(UUID().uuidString).json")
        try Data("{}".utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        #expect(throws: BenchConfigurationError.self) { try ReportComparison.load(["/no/such/file.json"]) }
        do {
            _ = try ReportComparison.load([path.path])
            Issue.record("a foreign file was accepted")
        } catch {
            #expect(error.description.hasPrefix("\(path.path): not a starling bench JSON report"))
        }
    }
}
