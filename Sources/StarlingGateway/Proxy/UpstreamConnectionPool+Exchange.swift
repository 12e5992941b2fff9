import NIOCore
import NIOHTTP1

/// Why `UpstreamConnectionPool.exchange` got no response head.
enum UpstreamExchangeFailure: Error {
    /// No connection could be made.
    case unreachable(any Error)
    /// The connection failed, or the deadline passed (`ProxyConnectionError.timedOut`), before the response head.
    case noAnswer(any Error)
}

extension UpstreamConnectionPool {
    /// Sends a whole request to `endpoint` (`host:port`) over a pooled connection made on `loop`, and waits up to
    /// `timeout` for the response head (informational answers skipped). A reused connection that fails before
    /// answering (the server may have closed it just as it was reused) gets the request again on another one.
    /// Failures close the connection.
    func exchange(
        _ head: HTTPRequestHead, body: ByteBuffer, with endpoint: String, on loop: any EventLoop, timeout: TimeAmount
    ) async throws(UpstreamExchangeFailure) -> (UpstreamConnection, HTTPResponseHead) {
        while true {
            let connection: UpstreamConnection
            let reused: Bool
            do {
                (connection, reused) = try await acquire(endpoint, on: loop)
            } catch {
                throw .unreachable(error)
            }
            connection.send(head, body: body)
            do {
                let deadline = NIODeadline.now() + timeout
                while true {
                    guard case .head(let h) = try await connection.next(deadline: deadline) else {
                        throw ProxyConnectionError.failed("the answer did not start with a status line")
                    }
                    // Informational answers (there is no `expect` upstream, so hardly any) come before the real one.
                    if h.status.code >= 200 || h.status == .switchingProtocols { return (connection, h) }
                }
            } catch {
                connection.close()
                if reused, error as? ProxyConnectionError != .timedOut, !Task.isCancelled { continue }
                throw .noAnswer(error)
            }
        }
    }
}
