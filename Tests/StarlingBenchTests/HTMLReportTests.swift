import Foundation
import Testing

@testable import StarlingBench

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct HTMLReportTests {
    /// Two stages of requests served by two endpoints, one failure.
    static func report() -> BenchReport {
        var records: [RequestRecord] = []
        for i in 0..<40 {
            let sent = Double(i) * 0.1
            let ttft = 0.02 + Double(i % 7) * 0.005
            let chunks = (0..<5).map { RequestTiming.Chunk(time: sent + ttft + Double($0) * 0.01, tokens: 1) }
            records.append(
                RequestRecord(
                    stage: i < 20 ? 0 : 1, model: "m",
                    timing: RequestTiming(scheduled: sent, sent: sent, chunks: chunks, end: sent + ttft + 0.05),
                    inputTokens: 10, outputTokens: 5, status: 200, error: i == 39 ? "http_5xx" : nil,
                    endpoint: i % 3 == 0 ? "10.0.0.1:8000" : "10.0.0.2:8000"))
        }
        var target = BenchTarget(baseURL: "http://gw", models: ["m"])
        target.api = .chat
        return BenchReport(
            target: target, mode: "open loop", workload: "input <fixed> & 10", seed: 1,
            slo: ServiceLevelObjective(timeToFirstToken: 0.03),
            stages: [.init(start: 0, duration: 2, targetRate: 10), .init(start: 2, duration: 2, targetRate: 10)],
            records: records)
    }

    /// Element names of a well-formed document, in order (the parse fails on malformed XML).
    final class Elements: NSObject, XMLParserDelegate {
        var names: [String] = []
        var attributes: [[String: String]] = []
        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            names.append(name)
            self.attributes.append(attributes)
        }
    }

    func parse(_ html: String) throws -> Elements {
        let parser = XMLParser(data: Data(html.utf8))
        let elements = Elements()
        parser.delegate = elements
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        return elements
    }

    @Test func reportIsSelfContainedWellFormedAndHasEveryChart() throws {
        let html = HTMLReport.render(Self.report())
        let elements = try parse(html)
        // Three percentile charts, two CDFs, two throughput charts and the endpoint share.
        #expect(elements.names.filter { $0 == "svg" }.count == 8)
        #expect(
            !elements.names.contains("script") && !elements.names.contains("img") && !elements.names.contains("link"))
        let references = elements.attributes.flatMap { $0.filter { $0.key == "src" || $0.key == "href" } }
        #expect(references.isEmpty, "external references: \(references)")
        #expect(html.contains("10.0.0.1:8000") && html.contains("10.0.0.2:8000"))
        #expect(html.contains("input &lt;fixed&gt; &amp; 10"), "text is escaped")
        #expect(html.contains("http_5xx"))
        #expect(html.contains("TTFT ≤ 30 ms"))
    }

    @Test func emptyRunStillRenders() throws {
        let report = BenchReport(
            target: BenchTarget(baseURL: "http://x", models: ["m"]), mode: "open loop", seed: 0, slo: nil,
            stages: [.init(start: 0, duration: 1)], records: [])
        let html = HTMLReport.render(report)
        _ = try parse(html)
        #expect(html.contains("no data"))
        #expect(html.contains("The server named no serving endpoint"))
    }

    @Test func cdfIsMonotoneAndBounded() {
        let points = HTMLReport.cdf((1...1000).map { Double($0) / 1000 })
        #expect(points.count == 201)
        #expect(zip(points, points.dropFirst()).allSatisfy { $0.x <= $1.x && $0.y <= $1.y })
        #expect(points.last?.y == 1 && points.last?.x == 1000)
    }
}
