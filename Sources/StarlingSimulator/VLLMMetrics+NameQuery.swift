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

    private static func decode(_ component: Substring) -> String? {
        component.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
