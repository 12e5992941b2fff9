import StarlingClient
import Testing

extension APIAccessLog {
    /// Waits (up to `within`: watches start after their lists, the last status and Events come late) until every
    /// declared access has been seen, then expects the seen set to equal the declaration, naming whatever is
    /// missing or was sent undeclared.
    public nonisolated func expectExactly(
        _ declaration: [APIAccess], within: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let declared = Set(declaration)
        try? await eventually("every declared access", timeout: within) {
            await self.seen.isSuperset(of: declared)
        }
        let seen = await self.seen
        #expect(
            seen == declared,
            "missing: \(declared.subtracting(seen).sorted()), not declared: \(seen.subtracting(declared).sorted())",
            sourceLocation: sourceLocation)
    }
}
