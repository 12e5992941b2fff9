/// What `eventually` throws when its condition never held.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String

    public var description: String { "timed out waiting for \(what)" }
}

/// Waits until `condition` holds, checking it every `every`; throws `TimedOut` naming `what` after `timeout` (a
/// test that throws records it as its failure).
public func eventually(
    _ what: String, timeout: Duration = .seconds(10), every: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: every)
    }
    throw TimedOut(what: what)
}
