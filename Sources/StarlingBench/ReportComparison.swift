import Foundation

/// `starling bench compare`: overall figures of several reports side by side, each with its ratio to the first.
public enum ReportComparison {
    /// One compared figure; `higherIsBetter` only labels the table.
    struct Row: Sendable {
        var name: String
        var value: @Sendable (StageSummary) -> Double?
        var higherIsBetter: Bool
    }

    static let rows: [Row] = [
        Row(name: "requests ok", value: { Double($0.succeeded) }, higherIsBetter: true),
        Row(name: "request/s", value: { $0.requestThroughput }, higherIsBetter: true),
        Row(name: "output tok/s", value: { $0.outputTokenThroughput }, higherIsBetter: true),
        Row(name: "goodput %", value: { $0.goodput.map { $0 * 100 } }, higherIsBetter: true),
        Row(name: "TTFT p50 ms", value: { $0.timeToFirstToken.map { $0.p50 * 1000 } }, higherIsBetter: false),
        Row(name: "TTFT p90 ms", value: { $0.timeToFirstToken.map { $0.p90 * 1000 } }, higherIsBetter: false),
        Row(name: "TTFT p99 ms", value: { $0.timeToFirstToken.map { $0.p99 * 1000 } }, higherIsBetter: false),
        Row(name: "ITL p50 ms", value: { $0.interTokenLatency.map { $0.p50 * 1000 } }, higherIsBetter: false),
        Row(name: "ITL p99 ms", value: { $0.interTokenLatency.map { $0.p99 * 1000 } }, higherIsBetter: false),
        Row(name: "TPOT p50 ms", value: { $0.timePerOutputToken.map { $0.p50 * 1000 } }, higherIsBetter: false),
        Row(name: "E2E p50 ms", value: { $0.endToEndLatency.map { $0.p50 * 1000 } }, higherIsBetter: false),
        Row(name: "E2E p99 ms", value: { $0.endToEndLatency.map { $0.p99 * 1000 } }, higherIsBetter: false),
        Row(name: "errors", value: { Double($0.requests - $0.succeeded) }, higherIsBetter: false),
    ]

    /// Loads reports, naming the file and the problem when one cannot be read.
    public static func load(_ paths: [String]) throws(BenchConfigurationError) -> [(name: String, report: BenchReport)]
    {
        var result: [(String, BenchReport)] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BenchConfigurationError("\(path): cannot read the file")
            }
            do {
                let report = try JSONDecoder().decode(BenchReport.self, from: data)
                guard report.schemaVersion == BenchReport.schemaVersion else {
                    throw BenchConfigurationError(
                        "\(path): schemaVersion \(report.schemaVersion) is not \(BenchReport.schemaVersion)")
                }
                result.append((URL(fileURLWithPath: path).lastPathComponent, report))
            } catch let error as BenchConfigurationError {
                throw error
            } catch {
                throw BenchConfigurationError("\(path): not a starling bench JSON report (\(error))")
            }
        }
        return result
    }

    /// The table: a column per report; from the second on, each value is followed by its ratio to the first.
    public static func render(_ reports: [(name: String, report: BenchReport)]) -> String {
        var table: [[String]] = [["metric"] + reports.map(\.name)]
        for row in rows {
            let values = reports.map { row.value($0.report.overall) }
            var cells = [row.name + (row.higherIsBetter ? " (↑)" : " (↓)")]
            for (i, value) in values.enumerated() {
                guard let value else {
                    cells.append("-")
                    continue
                }
                var cell = format(value)
                if i > 0, let base = values[0], base != 0 {
                    cell += String(format: " (%.2fx)", value / base)
                }
                cells.append(cell)
            }
            table.append(cells)
        }
        return TextTable.render(table)
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 100 || value == value.rounded() ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }
}
