import Synchronization

/// The history of each multi-turn session under way. A turn waits for the one before it to finish (its reply
/// is part of the next request), then gets the session's messages so far. Any number of a session's turns may
/// wait at once (arrivals can outpace replies); each is let go in order. Closing the book lets every waiting turn
/// go without a history, so a run never outlasts its schedule waiting on a turn that cannot be sent.
final class SessionBook: Sendable {
    private struct Session {
        var messages: [[String: String]] = []
        var finishedTurns = 0
        /// Turns waiting for an earlier one, by turn index.
        var waiters: [Int: CheckedContinuation<[[String: String]]?, Never>] = [:]
    }

    private struct State {
        var sessions: [Int: Session] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// The messages before `turn`, once every earlier turn of its session has finished; nil when the book was
    /// closed first (the turn is not to be sent).
    func history(before turn: PromptSource.Turn) async -> [[String: String]]? {
        guard turn.index > 0 else { return state.withLock { $0.closed } ? nil : [] }
        return await withCheckedContinuation { continuation in
            let ready: [[String: String]]?? = state.withLock { state in
                if state.closed { return .some(nil) }
                let session = state.sessions[turn.session, default: Session()]
                if session.finishedTurns >= turn.index { return .some(session.messages) }
                state.sessions[turn.session, default: Session()].waiters[turn.index] = continuation
                return .none
            }
            if case .some(let messages) = ready { continuation.resume(returning: messages) }
        }
    }

    /// Records a finished turn's new messages (the user message and the reply, when there was one) and lets the
    /// next turn go; the last turn forgets the session.
    func finish(_ turn: PromptSource.Turn, messages: [[String: String]]) {
        let wake: (CheckedContinuation<[[String: String]]?, Never>, [[String: String]])? = state.withLock { state in
            var session = state.sessions[turn.session, default: Session()]
            session.messages += messages
            session.finishedTurns = max(session.finishedTurns, turn.index + 1)
            let next = session.waiters.removeValue(forKey: session.finishedTurns)
            state.sessions[turn.session] = turn.isLast && session.waiters.isEmpty ? nil : session
            return next.map { ($0, session.messages) }
        }
        if let (continuation, messages) = wake { continuation.resume(returning: messages) }
    }

    /// Lets every waiting turn go without a history and makes later ones return at once; returns how many waited.
    @discardableResult
    func close() -> Int {
        let waiting = state.withLock { state in
            state.closed = true
            let all = state.sessions.values.flatMap { $0.waiters.values }
            for key in state.sessions.keys { state.sessions[key]?.waiters = [:] }
            return all
        }
        for continuation in waiting { continuation.resume(returning: nil) }
        return waiting.count
    }
}
