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

/// Runs `body`, throwing `TimedOut` naming `what` if it has not finished after `timeout` (the body is then
/// cancelled), so that a test of something that must end cannot hang when it does not.
public func within<T: Sendable>(
    _ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let result = try await group.next(), let value = result else { throw TimedOut(what: what) }
        return value
    }
}
