import Synchronization

/// A pool's `PoolState` behind a lock, with the waiting requests' continuations: the thin shell the request
/// handlers, the scraper and the endpoint source share.
final class EndpointPool: Sendable {
    let name: String
    private struct Locked {
        var state: PoolState
        var continuations: [UInt64: CheckedContinuation<PoolState.Outcome, Never>] = [:]
        /// Outcomes of waiters served before their task parked.
        var ready: [UInt64: PoolState.Outcome] = [:]
        var nextID: UInt64 = 0
    }

    private let locked: Mutex<Locked>
    let clock = ContinuousClock()

    init(settings: PoolSettings) {
        name = settings.name
        locked = Mutex(Locked(state: PoolState(settings: settings)))
    }

    var settings: PoolSettings { locked.withLock { $0.state.settings } }

    /// The profile reads prefix hashes (read per request, without copying the settings).
    var usesPrefix: Bool { locked.withLock { $0.state.settings.profile.usesPrefix } }

    /// Reads the state.
    func read<T>(_ body: (PoolState) -> T) -> T { locked.withLock { body($0.state) } }

    /// Changes the state (endpoints, scrapes), then serves waiting requests that can now go.
    func update(_ body: (inout PoolState) -> Void) {
        let now = clock.now
        let resumed = locked.withLock {
            locked -> [(CheckedContinuation<PoolState.Outcome, Never>, PoolState.Outcome)] in
            body(&locked.state)
            return Self.takeServed(&locked, now: now)
        }
        for (continuation, outcome) in resumed { continuation.resume(returning: outcome) }
    }

    /// An endpoint for `ask`, waiting at the gateway when the pool is saturated or has no endpoint yet (`onWait`
    /// is called then). A cancelled task stops waiting.
    func acquire(_ ask: PoolState.Ask, onWait: () -> Void = {}) async -> PoolState.Outcome {
        let now = clock.now
        let (id, first) = locked.withLock { locked in
            locked.nextID += 1
            return (locked.nextID, locked.state.request(ask, id: locked.nextID, now: now))
        }
        guard first == .wait else { return first }
        onWait()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let early: PoolState.Outcome? = locked.withLock { locked in
                    if let ready = locked.ready.removeValue(forKey: id) { return ready }
                    if Task.isCancelled, locked.state.cancelWaiting(id) {
                        return .fail(.noEndpoint("the client went away"))
                    }
                    locked.continuations[id] = continuation
                    return nil
                }
                if let early { continuation.resume(returning: early) }
            }
        } onCancel: {
            let continuation = locked.withLock { locked -> CheckedContinuation<PoolState.Outcome, Never>? in
                guard locked.state.cancelWaiting(id) else { return nil }
                return locked.continuations.removeValue(forKey: id)
            }
            continuation?.resume(returning: .fail(.noEndpoint("the client went away")))
        }
    }

    /// Hands an endpoint back; a freed slot may let a waiting request go.
    func release(_ lease: PoolState.Lease) {
        let now = ContinuousClock.now
        update { $0.release(lease, now: now) }
    }

    /// Serves or times out waiting requests; called on every tick of the maintenance loop.
    func tick() { update { _ in } }

    private static func takeServed(
        _ locked: inout Locked, now: ContinuousClock.Instant
    ) -> [(CheckedContinuation<PoolState.Outcome, Never>, PoolState.Outcome)] {
        guard locked.state.hasWaiting else { return [] }
        var resumed: [(CheckedContinuation<PoolState.Outcome, Never>, PoolState.Outcome)] = []
        for (id, outcome) in locked.state.serveWaiting(now: now) {
            if let continuation = locked.continuations.removeValue(forKey: id) {
                resumed.append((continuation, outcome))
            } else {
                locked.ready[id] = outcome
            }
        }
        return resumed
    }
}
