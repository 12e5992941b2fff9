import Synchronization

/// The history of each multi-turn session under way. A turn waits for the one before it to finish (its reply
/// is part of the next request), then gets the session's messages so far.
final class SessionBook: Sendable {
    private struct Session {
        var messages: [[String: String]] = []
        var finishedTurns = 0
        var waiter: (turn: Int, continuation: CheckedContinuation<[[String: String]], Never>)?
    }

    private let sessions = Mutex<[Int: Session]>([:])

    /// The messages before `turn`, once every earlier turn of its session has finished.
    func history(before turn: PromptSource.Turn) async -> [[String: String]] {
        guard turn.index > 0 else { return [] }
        return await withCheckedContinuation { continuation in
            let ready: [[String: String]]? = sessions.withLock { sessions in
                let session = sessions[turn.session, default: Session()]
                if session.finishedTurns >= turn.index { return session.messages }
                sessions[turn.session, default: Session()].waiter = (turn.index, continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Records a finished turn's new messages (the user message and the reply, when there was one) and lets the
    /// next turn go; the last turn forgets the session.
    func finish(_ turn: PromptSource.Turn, messages: [[String: String]]) {
        let wake: (CheckedContinuation<[[String: String]], Never>, [[String: String]])? = sessions.withLock {
            sessions in
            var session = sessions[turn.session, default: Session()]
            session.messages += messages
            session.finishedTurns = turn.index + 1
            var wake: (CheckedContinuation<[[String: String]], Never>, [[String: String]])?
            if let waiter = session.waiter, waiter.turn <= session.finishedTurns {
                wake = (waiter.continuation, session.messages)
                session.waiter = nil
            }
            sessions[turn.session] = turn.isLast ? nil : session
            return wake
        }
        if let (continuation, messages) = wake { continuation.resume(returning: messages) }
    }
}
