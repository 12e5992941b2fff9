import NIOCore
import NIOHTTP1

extension UpstreamConnectionPool {
    /// A GET of `path` from `endpoint` (`host:port`) over a pooled connection made on `loop`, as cheap as a proxied
    /// request (a scrape every 50 ms per endpoint cost the gateway more through a general-purpose HTTP client than
    /// streaming did). Each body chunk goes to `body` as it arrives; returns the status once the answer ended.
    /// Throws `ProxyConnectionError` when the connection fails, the answer is not done by `timeout`, or the body
    /// passes `limit` bytes, and what `body` throws; a reused connection that fails before answering is retried once
    /// on a fresh one (the server may have closed it just then).
    func get(
        _ path: String, from endpoint: String, on loop: any EventLoop, timeout: TimeAmount, limit: Int,
        body: (ByteBuffer) throws -> Void
    ) async throws -> HTTPResponseStatus {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "host", value: endpoint)
        let deadline = NIODeadline.now() + timeout
        var connection: UpstreamConnection
        var response: HTTPResponseHead
        attempts: while true {
            let reused: Bool
            (connection, reused) = try await acquire(endpoint, on: loop)
            connection.send(head, body: ByteBuffer())
            do {
                while true {
                    guard case .head(let h) = try await connection.next(deadline: deadline) else {
                        throw ProxyConnectionError.failed("the answer did not start with a status line")
                    }
                    if h.status.code >= 200 {
                        response = h
                        break attempts
                    }
                }
            } catch {
                connection.close()
                if reused, error as? ProxyConnectionError != .timedOut, !Task.isCancelled { continue }
                throw error
            }
        }
        do {
            var size = 0
            while true {
                switch try await connection.next(deadline: deadline) {
                case .body(let chunk):
                    size += chunk.readableBytes
                    guard size <= limit else {
                        throw ProxyConnectionError.failed("the answer is larger than \(limit) bytes")
                    }
                    try body(chunk)
                case .end:
                    release(connection, reusable: response.isKeepAlive)
                    return response.status
                case .head:
                    throw ProxyConnectionError.failed("a second status line in one answer")
                }
            }
        } catch {
            connection.close()
            throw error
        }
    }
}
