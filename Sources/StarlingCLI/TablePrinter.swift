import Foundation
import StarlingAPI

/// kubectl-like tables for each kind.
enum TablePrinter {
    static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 3, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }

    static func columns(kind: String, wide: Bool, allNamespaces: Bool) -> [String] {
        ResourceTable.columns(kind: kind, wide: wide, allNamespaces: allNamespaces)
    }

    static func row(_ o: JSONValue, kind: String, wide: Bool, allNamespaces: Bool) -> [String] {
        ResourceTable.row(o, kind: kind, wide: wide, allNamespaces: allNamespaces)
    }
}
