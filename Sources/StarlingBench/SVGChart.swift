import Foundation

/// Small inline SVG charts for the HTML report: no scripts, no external files, readable offline. Every chart is
/// well-formed XML; hovering a point or bar shows its value (SVG `<title>`).
enum SVGChart {
    /// A named series of points.
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
    }

    static let palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]
    static let width = 720.0
    static let height = 300.0
    static let left = 64.0
    static let right = 16.0
    static let top = 16.0
    static let bottom = 44.0

    /// Lines through each series' points; `markers` are dashed vertical lines (stage boundaries).
    static func lines(
        _ series: [Series], xLabel: String, yLabel: String, markers: [(x: Double, label: String)] = [],
        yMax: Double? = nil
    ) -> String {
        let xs = series.flatMap { $0.points.map(\.x) } + markers.map(\.x)
        let ys = series.flatMap { $0.points.map(\.y) }
        guard !ys.isEmpty else { return empty() }
        let xScale = Scale(low: min(0, xs.min() ?? 0), high: xs.max() ?? 1)
        let yScale = Scale(low: 0, high: yMax ?? max(ys.max() ?? 1, 1e-9))
        var svg = open() + axes(xScale, yScale, xLabel: xLabel, yLabel: yLabel)
        for (x, label) in markers {
            let px = xScale.position(x, from: left, to: width - right)
            svg += "<line x1=\"\(f(px))\" y1=\"\(f(top))\" x2=\"\(f(px))\" y2=\"\(f(height - bottom))\" "
            svg += "stroke=\"#9ca3af\" stroke-dasharray=\"4 3\"><title>\(escape(label))</title></line>"
            svg += "<text x=\"\(f(px + 3))\" y=\"\(f(top + 10))\" font-size=\"10\" fill=\"#6b7280\">"
            svg += "\(escape(label))</text>"
        }
        for (i, s) in series.enumerated() where !s.points.isEmpty {
            let color = palette[i % palette.count]
            let path = s.points.map { point in
                "\(f(xScale.position(point.x, from: left, to: width - right))),"
                    + f(yScale.position(point.y, from: height - bottom, to: top))
            }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" points=\"\(path)\">"
            svg += "<title>\(escape(s.name))</title></polyline>"
        }
        return svg + legend(series.map(\.name)) + "</svg>"
    }

    /// Grouped vertical bars: one group per label, one bar per series.
    static func bars(groups: [String], series: [(name: String, values: [Double?])], yLabel: String) -> String {
        let values = series.flatMap { $0.values.compactMap { $0 } }
        guard !values.isEmpty, !groups.isEmpty else { return empty() }
        let yScale = Scale(low: 0, high: max(values.max() ?? 1, 1e-9))
        var svg = open() + axes(nil, yScale, xLabel: "", yLabel: yLabel)
        let plotWidth = width - left - right
        let groupWidth = plotWidth / Double(groups.count)
        let barWidth = groupWidth * 0.8 / Double(series.count)
        for (g, label) in groups.enumerated() {
            let x0 = left + Double(g) * groupWidth + groupWidth * 0.1
            for (s, entry) in series.enumerated() {
                guard let value = entry.values[g] else { continue }
                let y = yScale.position(value, from: height - bottom, to: top)
                svg += "<rect x=\"\(f(x0 + Double(s) * barWidth))\" y=\"\(f(y))\" width=\"\(f(barWidth * 0.92))\" "
                svg += "height=\"\(f(height - bottom - y))\" fill=\"\(palette[s % palette.count])\">"
                svg += "<title>\(escape(label)) \(escape(entry.name)): \(number(value))</title></rect>"
            }
            svg += "<text x=\"\(f(x0 + groupWidth * 0.4))\" y=\"\(f(height - bottom + 16))\" font-size=\"11\" "
            svg += "text-anchor=\"middle\">\(escape(label))</text>"
        }
        return svg + legend(series.map(\.name)) + "</svg>"
    }

    /// Horizontal bars with a share label each (per-endpoint share).
    static func shares(_ items: [(label: String, count: Int)]) -> String {
        let total = max(1, items.reduce(0) { $0 + $1.count })
        let rowHeight = 26.0
        let chartHeight = Double(items.count) * rowHeight + 12
        let labelWidth = 240.0
        let maxCount = Double(items.map(\.count).max() ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(chartHeight))\" "
        svg += "width=\"\(f(width))\" height=\"\(f(chartHeight))\" font-family=\"sans-serif\">"
        for (i, item) in items.enumerated() {
            let y = 6 + Double(i) * rowHeight
            let length = (width - labelWidth - 120) * Double(item.count) / max(maxCount, 1)
            let share = 100 * Double(item.count) / Double(total)
            svg += "<text x=\"\(f(labelWidth - 8))\" y=\"\(f(y + 15))\" font-size=\"12\" text-anchor=\"end\">"
            svg += "\(escape(item.label))</text>"
            svg += "<rect x=\"\(f(labelWidth))\" y=\"\(f(y + 3))\" width=\"\(f(max(1, length)))\" height=\"16\" "
            svg += "fill=\"\(palette[i % palette.count])\"><title>\(escape(item.label)): \(item.count)</title></rect>"
            svg += "<text x=\"\(f(labelWidth + length + 6))\" y=\"\(f(y + 15))\" font-size=\"12\">"
            svg += "\(item.count) (\(String(format: "%.1f", share))%)</text>"
        }
        return svg + "</svg>"
    }

    // MARK: Pieces

    /// A linear axis range with "nice" ticks.
    struct Scale {
        var low: Double
        var high: Double
        var ticks: [Double]

        init(low: Double, high: Double) {
            let span = max(high - low, 1e-9)
            let rough = span / 5
            let magnitude = pow(10, floor(log10(rough)))
            let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
            self.low = floor(low / step) * step
            self.high = ceil(high / step) * step
            ticks = stride(from: self.low, through: self.high + step / 2, by: step).map { $0 }
        }

        func position(_ value: Double, from start: Double, to end: Double) -> Double {
            start + (end - start) * (value - low) / max(high - low, 1e-12)
        }
    }

    static func open() -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(width)) \(f(height + 22))\" "
            + "width=\"\(f(width))\" height=\"\(f(height + 22))\" font-family=\"sans-serif\">"
    }

    static func empty() -> String {
        open() + "<text x=\"\(f(width / 2))\" y=\"\(f(height / 2))\" text-anchor=\"middle\" fill=\"#6b7280\">"
            + "no data</text></svg>"
    }

    static func axes(_ x: Scale?, _ y: Scale, xLabel: String, yLabel: String) -> String {
        var svg = ""
        for tick in y.ticks {
            let py = y.position(tick, from: height - bottom, to: top)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py))\" x2=\"\(f(width - right))\" y2=\"\(f(py))\" "
            svg += "stroke=\"#e5e7eb\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py + 4))\" font-size=\"11\" text-anchor=\"end\">"
            svg += "\(number(tick))</text>"
        }
        if let x {
            for tick in x.ticks {
                let px = x.position(tick, from: left, to: width - right)
                svg += "<line x1=\"\(f(px))\" y1=\"\(f(height - bottom))\" x2=\"\(f(px))\" "
                svg += "y2=\"\(f(height - bottom + 4))\" stroke=\"#6b7280\"/>"
                svg += "<text x=\"\(f(px))\" y=\"\(f(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\">"
                svg += "\(number(tick))</text>"
            }
        }
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(height - bottom))\" x2=\"\(f(width - right))\" "
        svg += "y2=\"\(f(height - bottom))\" stroke=\"#6b7280\"/>"
        svg +=
            "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(height - bottom))\" stroke=\"#6b7280\"/>"
        svg += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 8))\" font-size=\"12\" "
        svg += "text-anchor=\"middle\">\(escape(xLabel))</text>"
        svg += "<text x=\"14\" y=\"\(f((top + height - bottom) / 2))\" font-size=\"12\" text-anchor=\"middle\" "
        svg += "transform=\"rotate(-90 14 \(f((top + height - bottom) / 2)))\">\(escape(yLabel))</text>"
        return svg
    }

    static func legend(_ names: [String]) -> String {
        var svg = ""
        var x = left
        for (i, name) in names.enumerated() {
            svg += "<rect x=\"\(f(x))\" y=\"\(f(height + 8))\" width=\"12\" height=\"12\" "
            svg += "fill=\"\(palette[i % palette.count])\"/>"
            svg += "<text x=\"\(f(x + 16))\" y=\"\(f(height + 18))\" font-size=\"12\">\(escape(name))</text>"
            x += 28 + Double(name.count) * 7
        }
        return svg
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func number(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        if abs(value) >= 10 {
            let text = String(format: "%.1f", value)
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        return String(format: "%.3g", value)
    }

    /// Text safe inside XML elements and attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
