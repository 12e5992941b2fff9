import NIOCore
import Synchronization

/// Idle upstream connections, kept per endpoint and per event loop: a request reuses one made on its own front
/// connection's loop, most recently used first, so the hot ones stay warm and the rest time out.
final class UpstreamConnectionPool: Sendable {
    private struct Key: Hashable {
        var endpoint: String
        var loop: ObjectIdentifier
    }

    private struct Idle {
        var connection: UpstreamConnection
        var since: ContinuousClock.Instant
    }

    private struct State {
        var idle: [Key: [Idle]] = [:]
        var shutDown = false
    }

    private let state = Mutex(State())
    /// Idle connections kept per endpoint and loop; more are closed when released.
    let maxIdle: Int
    /// Idle connections older than this are closed by `closeExpired`.
    let idleTimeout: Duration
    let connectTimeout: Duration

    init(maxIdle: Int = 256, idleTimeout: Duration = .seconds(60), connectTimeout: Duration) {
        self.maxIdle = maxIdle
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
    }

    /// An idle connection to `endpoint` made on `loop`, or a new one; `reused` says which (a reused one may have
    /// been closed by the server just now, so its failure before any answer is worth one retry).
    func acquire(_ endpoint: String, on loop: any EventLoop) async throws -> (UpstreamConnection, reused: Bool) {
        let key = Key(endpoint: endpoint, loop: ObjectIdentifier(loop))
        while let idle = state.withLock({ $0.idle[key]?.popLast() }) {
            if idle.connection.isReusable { return (idle.connection, true) }
            idle.connection.close()
        }
        if state.withLock({ $0.shutDown }) { throw ProxyConnectionError.failed("the gateway is shutting down") }
        return (try await UpstreamConnection.connect(to: endpoint, on: loop, timeout: connectTimeout), false)
    }

    /// Takes a connection back after a request: kept if `reusable` and there is room, closed otherwise.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        let key = Key(endpoint: connection.endpoint, loop: ObjectIdentifier(connection.eventLoop))
        let keep =
            reusable && connection.isReusable
            && state.withLock { state in
                guard !state.shutDown, state.idle[key, default: []].count < maxIdle else { return false }
                state.idle[key, default: []].append(Idle(connection: connection, since: .now))
                return true
            }
        if !keep { connection.close() }
    }

    /// Closes connections idle for longer than `idleTimeout` and ones the server closed.
    func closeExpired(now: ContinuousClock.Instant = .now) {
        let expired = state.withLock { state -> [UpstreamConnection] in
            var expired: [UpstreamConnection] = []
            for key in Array(state.idle.keys) {
                state.idle[key]!.removeAll { idle in
                    let gone = now - idle.since > idleTimeout || !idle.connection.channel.isActive
                    if gone { expired.append(idle.connection) }
                    return gone
                }
                if state.idle[key]!.isEmpty { state.idle[key] = nil }
            }
            return expired
        }
        for connection in expired { connection.close() }
    }

    /// Idle connections right now (for tests and metrics).
    var idleCount: Int { state.withLock { $0.idle.values.reduce(0) { $0 + $1.count } } }

    /// Closes every idle connection and keeps none from now on.
    func shutdown() {
        let all = state.withLock { state -> [UpstreamConnection] in
            state.shutDown = true
            defer { state.idle = [:] }
            return state.idle.values.flatMap { $0.map(\.connection) }
        }
        for connection in all { connection.close() }
    }
}
