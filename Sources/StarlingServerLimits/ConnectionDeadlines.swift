/// Which deadline a connection is under, decided from what happened on it, with no I/O: the NIO handlers feed it
/// events and arm one timer for `deadline`.
///
/// - From the start until the first request's head is in: `headerTimeout` (a TLS handshake counts here).
/// - Between requests on a kept-alive connection, until the next head is in: `idleTimeout` (so a slow-header client
///   on a kept-alive connection is closed after that long).
/// - From a head until the request's end: `bodyTimeout`.
/// - While a response is being produced: none (the upstream's own timeouts apply, and streams run long). A request
///   pipelined behind it waits without a deadline too; its phase starts when the response before it ends.
public struct ConnectionDeadlines: Sendable, Equatable {
    public enum Phase: String, Sendable, Equatable {
        case awaitingFirstHead, idle, readingBody, responding
    }

    /// Why a connection was closed.
    public enum Expiry: String, Sendable, Equatable {
        case header, body, idle
    }

    public enum Event: Sendable, Equatable {
        case head
        case requestEnd
        case responseEnd
    }

    public let limits: ConnectionLimits
    public private(set) var phase: Phase = .awaitingFirstHead
    /// How far a request pipelined behind the one being answered has come: nil (none), its head, or all of it.
    var pipelined: Event?
    /// When the connection expires, if it can.
    public private(set) var deadline: ContinuousClock.Instant?

    public init(limits: ConnectionLimits, now: ContinuousClock.Instant) {
        self.limits = limits
        deadline = now + limits.headerTimeout
    }

    /// Takes an event; returns whether the deadline changed (the timer must be re-armed).
    @discardableResult
    public mutating func record(_ event: Event, now: ContinuousClock.Instant) -> Bool {
        let before = deadline
        switch (event, phase) {
        case (.head, .responding), (.requestEnd, .responding):
            pipelined = event
        case (.head, _):
            phase = .readingBody
            deadline = now + limits.bodyTimeout
        case (.requestEnd, _):
            phase = .responding
            deadline = nil
        case (.responseEnd, .responding):
            switch pipelined {
            case .head?:
                phase = .readingBody
                deadline = now + limits.bodyTimeout
            case .requestEnd?:
                deadline = nil
            default:
                phase = .idle
                deadline = now + limits.idleTimeout
            }
            pipelined = nil
        case (.responseEnd, _):
            // A response sent before the request ended (413, 503): the connection closes after it anyway.
            break
        }
        return before != deadline
    }

    /// What expired at `now`, if anything: the connection is to be closed for it.
    public func expiry(at now: ContinuousClock.Instant) -> Expiry? {
        guard let deadline, now >= deadline else { return nil }
        switch phase {
        case .awaitingFirstHead: return .header
        case .readingBody: return .body
        case .idle: return .idle
        case .responding: return nil
        }
    }
}
