import Foundation

/// The end-of-run table: one column per stage plus the overall one.
public enum SummaryTable {
    public static func render(_ report: BenchReport) -> String { TextTable.render(rows(report)) }

    /// The table's rows, header first (shared by the terminal table and the HTML report).
    public static func rows(_ report: BenchReport) -> [[String]] {
        let columns = report.stages.count > 1 ? report.stages + [report.overall] : [report.overall]
        let names =
            report.stages.count > 1
            ? report.stages.map { HTMLReport.stageLabel($0) } + ["overall"] : ["overall"]
        var rows: [[String]] = [["metric"] + names]
        func row(_ name: String, _ value: (StageSummary) -> String) { rows.append([name] + columns.map(value)) }
        func ms(_ v: Double?) -> String { v.map { String(format: "%.1f", $0 * 1000) } ?? "-" }
        row("requests (ok/all)") { "\($0.succeeded)/\($0.requests)" }
        row("errors") {
            $0.errors.isEmpty
                ? "-" : $0.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        row("request/s") { String(format: "%.2f", $0.requestThroughput) }
        row("output tok/s") { String(format: "%.0f", $0.outputTokenThroughput) }
        for (name, pick) in [
            ("TTFT", \StageSummary.timeToFirstToken), ("ITL", \StageSummary.interTokenLatency),
            ("TPOT", \StageSummary.timePerOutputToken), ("E2E", \StageSummary.endToEndLatency),
        ] as [(String, KeyPath<StageSummary, LatencySummary?>)] {
            row("\(name) p50 ms") { ms($0[keyPath: pick]?.p50) }
            row("\(name) p90 ms") { ms($0[keyPath: pick]?.p90) }
            row("\(name) p99 ms") { ms($0[keyPath: pick]?.p99) }
        }
        row("send lag p99 ms") { ms($0.sendLag?.p99) }
        if report.slo != nil {
            row("goodput") { $0.goodput.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
            row("good output tok/s") { $0.goodOutputTokenThroughput.map { String(format: "%.0f", $0) } ?? "-" }
        }
        if !report.overall.endpoints.isEmpty {
            row("endpoints") { "\($0.endpoints.count)" }
        }
        return rows
    }
}
