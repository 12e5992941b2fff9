import Foundation

/// Runs process spawns on one thread that lives as long as the process.
///
/// Linux delivers a child's parent-death signal when the *thread* that forked it exits, and Swift's executor
/// threads may exit when idle; spawning from this permanent thread makes the signal mean "Starling died".
final class SpawnThread: @unchecked Sendable {
    // @unchecked: `jobs` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    static let shared: SpawnThread = {
        let spawner = SpawnThread()
        let thread = Thread { spawner.loop() }
        thread.name = "starling-spawn"
        thread.start()
        return spawner
    }()

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Runs `body` on the spawn thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            jobs.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }
}
