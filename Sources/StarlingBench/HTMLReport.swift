import Foundation

/// A self-contained HTML page for one report: run settings, the summary table and inline SVG charts (latency
/// percentiles per stage, TTFT and inter-token CDFs, throughput over time, per-endpoint share). No scripts and
/// no external files, so it opens offline and can be attached anywhere; the page is well-formed XHTML.
public enum HTMLReport {
    public static func render(_ report: BenchReport) -> String {
        let e = SVGChart.escape
        var html = """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>
            <title>starling bench: \(e(report.target))</title>
            <style>
            body { font-family: sans-serif; margin: 2em auto; max-width: 1000px; color: #111827; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
            th, td { border: 1px solid #d1d5db; padding: 3px 8px; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            thead th { background: #f3f4f6; }
            h2 { margin-top: 1.6em; border-bottom: 1px solid #e5e7eb; }
            .note { color: #6b7280; font-size: 13px; }
            </style></head><body>
            <h1>starling bench</h1>

            """
        var settings: [(String, String)] = [
            ("target", report.target), ("API", report.api), ("models", report.models.joined(separator: ", ")),
            ("mode", report.mode), ("seed", String(report.seed)),
            ("requests", "\(report.overall.succeeded) succeeded of \(report.overall.requests)"),
        ]
        if let workload = report.workload { settings.insert(("workload", workload), at: 4) }
        if let slo = report.slo {
            let bounds = [
                slo.timeToFirstToken.map { "TTFT ≤ \(SVGChart.number($0 * 1000)) ms" },
                slo.timePerOutputToken.map { "TPOT ≤ \(SVGChart.number($0 * 1000)) ms" },
            ].compactMap { $0 }
            settings.append(("SLO", bounds.joined(separator: ", ")))
        }
        if let sweep = report.sweep {
            settings.append(
                (
                    "sweep",
                    String(format: "saturation %.2f requests/s; stages at ", sweep.saturationRate)
                        + sweep.fractions.map { SVGChart.number($0) }.joined(separator: ", ") + " of it"
                ))
        }
        html += "<table>" + settings.map { "<tr><th>\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined() + "</table>\n"

        html += "<h2>Summary</h2>\n" + table(SummaryTable.rows(report))

        let labels = report.stages.map { stageLabel($0) }
        html += "<h2>Latency percentiles per stage</h2>\n"
        for (name, pick) in [
            ("Time to first token", \StageSummary.timeToFirstToken),
            ("Inter-token latency", \StageSummary.interTokenLatency),
            ("End-to-end latency", \StageSummary.endToEndLatency),
        ] as [(String, KeyPath<StageSummary, LatencySummary?>)] {
            html += "<h3>\(name) (ms)</h3>\n"
            html +=
                SVGChart.bars(
                    groups: labels,
                    series: [("p50", \LatencySummary.p50), ("p90", \LatencySummary.p90), ("p99", \LatencySummary.p99)]
                        .map { percentile in
                            (
                                percentile.0,
                                report.stages.map { $0[keyPath: pick].map { $0[keyPath: percentile.1] * 1000 } }
                            )
                        },
                    yLabel: "ms") + "\n"
        }

        let byStage = report.stages.map { stage in report.requests.filter { $0.stage == stage.stage && $0.succeeded } }
        let distributions: [(String, String, (RequestRecord) -> [Double])] = [
            ("Time to first token", "fraction of requests", { $0.timing.timeToFirstToken.map { [$0] } ?? [] }),
            ("Inter-token latency", "fraction of gaps", { $0.timing.interTokenGaps }),
        ]
        for (title, yLabel, values) in distributions {
            html += "<h2>\(title), CDF</h2>\n"
            let series = zip(labels, byStage).map { label, records in
                SVGChart.Series(name: label, points: cdf(records.flatMap(values)))
            }
            html += SVGChart.lines(series, xLabel: "ms", yLabel: yLabel, yMax: 1) + "\n"
        }

        let (tokens, requests) = throughputOverTime(report.requests)
        let markers = report.stages.compactMap { stage in stage.start.map { ($0, stageLabel(stage)) } }
        html += "<h2>Throughput over time</h2>\n"
        html +=
            SVGChart.lines(
                [SVGChart.Series(name: "output tokens/s", points: tokens)], xLabel: "seconds", yLabel: "tokens/s",
                markers: markers.count > 1 ? markers : []) + "\n"
        html +=
            SVGChart.lines(
                [SVGChart.Series(name: "requests finished/s", points: requests)], xLabel: "seconds",
                yLabel: "requests/s", markers: markers.count > 1 ? markers : []) + "\n"

        html += "<h2>Requests per endpoint</h2>\n"
        let endpoints = report.overall.endpoints.sorted {
            $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key)
        }
        if endpoints.isEmpty {
            html += "<p class=\"note\">The server named no serving endpoint in its responses.</p>\n"
        } else {
            html += SVGChart.shares(endpoints.map { ($0.key, $0.value) }) + "\n"
        }
        if !report.overall.errors.isEmpty {
            html += "<h2>Errors</h2>\n"
            html += table(
                [["class", "requests"]]
                    + report.overall.errors.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] })
        }
        html +=
            "<p class=\"note\">Definitions as kubernetes-sigs/inference-perf computes them; see docs/bench.md.</p>\n"
        return html + "</body></html>\n"
    }

    static func stageLabel(_ stage: StageSummary) -> String {
        let name = "stage \(stage.stage ?? 0)"
        return stage.targetRate.map { name + " @ " + SVGChart.number($0) + "/s" } ?? name
    }

    static func table(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var html =
            "<table><thead><tr>" + header.map { "<th>\(SVGChart.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows.dropFirst() {
            html += "<tr>" + row.map { "<td>\(SVGChart.escape($0))</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table>\n"
    }

    /// At most 201 points of the empirical CDF (x in ms).
    static func cdf(_ seconds: [Double]) -> [(x: Double, y: Double)] {
        guard !seconds.isEmpty else { return [] }
        let sorted = seconds.sorted()
        let steps = min(200, sorted.count - 1)
        guard steps > 0 else { return [(sorted[0] * 1000, 1)] }
        return (0...steps).map { i in
            let q = Double(i) / Double(steps)
            let index = min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))
            return (sorted[index] * 1000, Double(index + 1) / Double(sorted.count))
        }
    }

    /// Output tokens and finished requests per one-second bucket, from chunk and end times.
    static func throughputOverTime(_ records: [RequestRecord]) -> ([(x: Double, y: Double)], [(x: Double, y: Double)]) {
        var tokens: [Int: Int] = [:]
        var finished: [Int: Int] = [:]
        for record in records {
            for chunk in record.timing.chunks { tokens[Int(chunk.time.rounded(.down)), default: 0] += chunk.tokens }
            if record.succeeded, let end = record.timing.end { finished[Int(end.rounded(.down)), default: 0] += 1 }
        }
        let last = max(tokens.keys.max() ?? 0, finished.keys.max() ?? 0)
        guard !records.isEmpty else { return ([], []) }
        let first = min(0, tokens.keys.min() ?? 0)
        return (
            (first...last).map { (Double($0) + 0.5, Double(tokens[$0] ?? 0)) },
            (first...last).map { (Double($0) + 0.5, Double(finished[$0] ?? 0)) }
        )
    }
}
