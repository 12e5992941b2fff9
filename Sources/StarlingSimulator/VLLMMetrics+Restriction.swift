import Foundation

extension VLLMMetrics {
    /// The sample names asked for by a `/metrics` query's `name[]` parameters, decoded as Python's `parse_qs`
    /// decodes them (`+` is a space, percent escapes in keys and values, blank values dropped). Empty when the
    /// query asks for none, which means everything.
    static func requestedNames(query: String?) -> Set<String> {
        guard let query, !query.isEmpty else { return [] }
        var names: Set<String> = []
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, decode(parts[0]) == "name[]", let value = decode(parts[1]), !value.isEmpty
            else { continue }
            names.insert(value)
        }
        return names
    }

    /// The exposition cut down to the samples whose names are in `names`, as prometheus_client's restricted
    /// registry does for `name[]` (vLLM serves `/metrics` through prometheus_client): a family keeps its HELP and
    /// TYPE lines only when one of its samples is kept. Scrapers that read a few gauges ask for just those
    /// rather than for every histogram bucket.
    static func restrict(_ text: String, to names: Set<String>) -> String {
        var out = ""
        var header: [Substring] = []
        var headerWritten = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") {
                header = [line]
                headerWritten = false
            } else if line.hasPrefix("#") {
                header.append(line)
            } else if let end = line.firstIndex(where: { $0 == "{" || $0 == " " }), names.contains(String(line[..<end]))
            {
                if !headerWritten {
                    for headerLine in header { out += headerLine + "\n" }
                    headerWritten = true
                }
                out += line + "\n"
            }
        }
        return out
    }

    private static func decode(_ component: Substring) -> String? {
        component.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
