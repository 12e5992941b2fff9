import NIOCore
import NIOHTTP1

/// Reads the rest of an answer off its upstream connection, and hands the connection back to the pool when the
/// answer ended cleanly (closes it otherwise).
struct UpstreamReader {
    let connection: UpstreamConnection
    let pool: UpstreamConnectionPool
    /// The longest wait for each chunk…
    let timeout: TimeAmount
    /// …or the time the whole answer must be in by, when set.
    var deadline: NIODeadline?
    let keepAlive: Bool

    /// The next body chunk, or nil at the end of the answer.
    func next() async throws -> ByteBuffer? {
        do {
            switch try await connection.next(deadline: deadline ?? .now() + timeout) {
            case .body(let chunk):
                return chunk
            case .end:
                pool.release(connection, reusable: keepAlive)
                return nil
            case .head:
                throw ProxyConnectionError.secondStatusLine
            case .chunks:
                // Only a relay asks for chunks as they came, and it reads the answer to its end.
                throw ProxyConnectionError.failed("chunks passed through to a reader that did not ask for them")
            }
        } catch {
            connection.close()
            throw error
        }
    }

    /// Hands each body chunk to `body` as it arrives, to the end; throws beyond `limit` bytes in all, or what
    /// `body` throws (closing the connection).
    func forEach(upTo limit: Int, _ body: (ByteBuffer) throws -> Void) async throws {
        var size = 0
        while let chunk = try await next() {
            size += chunk.readableBytes
            do {
                guard size <= limit else {
                    throw ProxyConnectionError.failed("the answer is larger than \(limit) bytes")
                }
                try body(chunk)
            } catch {
                connection.close()
                throw error
            }
        }
    }

    /// The whole body; throws beyond `limit` bytes.
    func collect(upTo limit: Int) async throws -> ByteBuffer {
        var body = ByteBuffer()
        try await forEach(upTo: limit) { chunk in
            var chunk = chunk
            if body.readableBytes == 0 { body = chunk } else { body.writeBuffer(&chunk) }
        }
        return body
    }

    /// Stops reading: the rest of the answer is not wanted, so the connection cannot be reused.
    func abandon() { connection.close() }
}
