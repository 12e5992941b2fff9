import NIOCore
import NIOHTTP1

/// Passes a streamed answer's body from its upstream connection to the client's connection on the event loop they
/// share, chunk by chunk as it arrives, timing the tokens on the way: the request's task waits only for the end,
/// instead of waking for every chunk (which cost about a fifth of the gateway's CPU while streaming). Body bytes are
/// framed here (chunked transfer coding for HTTP/1.1 clients); chunks the upstream decoder passes through with their
/// framing (a chunked answer to a chunked client) go on as they are. What one socket read brought is gathered into
/// one buffer, written past the HTTP encoder (which would have made three writes of each chunk) in one flush. When
/// the client reads slower than the server writes, the upstream connection pauses until the client's can take more.
/// The response head and end go through the encoder as usual, before and after the relay.
final class StreamRelay: PartSink {
    typealias Part = UpstreamResponsePart

    /// How a relayed stream ended.
    enum Outcome: Sendable {
        /// The server finished its answer: every chunk is written to the client, the end of the response is not.
        case ended(TokenTimer)
        /// The upstream connection broke, or stalled past the deadline, mid-stream.
        case upstreamFailed(ProxyConnectionError, TokenTimer)
        /// The client went away, or the request was cancelled.
        case clientGone(TokenTimer)
    }

    private let front: any Channel
    private let allocator: ByteBufferAllocator
    /// The HTTP encoder's place in the client's pipeline: what is written here goes straight to the socket. Nil
    /// when the pipeline was already taken down (the client went away).
    private let outlet: ChannelHandlerContext?
    private let chunked: Bool
    private let frontParts: PartBufferHandler<HTTPServerRequestPart>
    private let upstream: PartBufferHandler<UpstreamResponsePart>
    private var tokens: TokenTimer
    private let onFirstToken: (@Sendable () -> Void)?
    /// Completed once, with the outcome; nil after.
    private var outcome: EventLoopPromise<Outcome>?
    /// The chunks received since the last write, framed: all the chunks of one socket read go out as one buffer.
    private var pending: ByteBuffer?

    /// A relay into `front` (whose buffering handler is `frontParts`, and whose response head, already written,
    /// was framed with chunked transfer coding if `chunked`) from the connection `upstream` buffers, timing tokens
    /// from `start`; `onFirstToken` runs on the loop when the first chunk with text passes. `outlet` is the
    /// response encoder's context when the caller has it (`ResponseWriter` looks it up once per connection), else
    /// it is looked up here. Call on the loop.
    init(
        front: any Channel, outlet: ChannelHandlerContext? = nil,
        frontParts: PartBufferHandler<HTTPServerRequestPart>, chunked: Bool,
        upstream: PartBufferHandler<UpstreamResponsePart>, start: ContinuousClock.Instant,
        onFirstToken: (@Sendable () -> Void)?, outcome: EventLoopPromise<Outcome>
    ) {
        self.front = front
        self.allocator = front.allocator
        self.outlet = outlet ?? (try? front.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self))
        self.chunked = chunked
        self.frontParts = frontParts
        self.upstream = upstream
        self.tokens = TokenTimer(start: start)
        self.onFirstToken = onFirstToken
        self.outcome = outcome
        if self.outlet == nil { finish(.clientGone(tokens)) }
    }

    func receive(_ part: Part) -> PartSinkDemand {
        switch part {
        case .body(let chunk):
            guard accept(chunk) else { return .done }
            if chunk.readableBytes > 0 {
                // Taken out so that appending does not copy it (the optional would hold a second reference).
                var buffer = pending.take() ?? allocator.buffer(capacity: chunk.readableBytes + 16)
                if chunked {
                    Self.frame(chunk, into: &buffer)
                } else {
                    var chunk = chunk
                    buffer.writeBuffer(&chunk)
                }
                pending = buffer
            }
            return demand()
        case .chunks(var chunks):
            // Framed as they came, for a client whose response is chunked too: they go out as they are.
            guard accept(chunks) else { return .done }
            if var buffer = pending.take() {
                buffer.writeBuffer(&chunks)
                pending = buffer
            } else {
                pending = chunks
            }
            return demand()
        case .end:
            // The task writes the end of the response after what is pending, and flushes both.
            writePending()
            finish(.ended(tokens))
            return .done
        case .head:
            writePending()
            finish(.upstreamFailed(.secondStatusLine, tokens))
            return .done
        }
    }

    /// Times the tokens in `bytes`; false when the relay is over or the client gone.
    private func accept(_ bytes: ByteBuffer) -> Bool {
        guard outlet != nil, outcome != nil else { return false }
        guard !frontParts.isBroken else {
            finish(.clientGone(tokens))
            return false
        }
        let waitingForFirst = tokens.firstToken == nil
        tokens.observe(bytes)
        if waitingForFirst, tokens.firstToken != nil { onFirstToken?() }
        return true
    }

    /// More now, or a pause (after a flush) while the client's connection is full.
    private func demand() -> PartSinkDemand {
        guard frontParts.isWritable else {
            readComplete()
            waitForFront()
            return .pause
        }
        return .more
    }

    func readComplete() {
        guard let buffer = pending.take() else { return }
        outlet?.writeAndFlush(NIOAny(IOData.byteBuffer(buffer)), promise: nil)
    }

    func failed(_ error: ProxyConnectionError) {
        if error == .cancelled {
            finish(.clientGone(tokens))
        } else {
            // What came before the failure goes out ahead of the error event the task writes.
            writePending()
            finish(.upstreamFailed(error, tokens))
        }
    }

    /// Writes, unflushed, the chunks gathered since the last write; says whether there were any.
    @discardableResult
    private func writePending() -> Bool {
        guard let buffer = pending.take() else { return false }
        outlet?.write(NIOAny(IOData.byteBuffer(buffer)), promise: nil)
        return true
    }

    /// Appends `chunk` to `buffer` as one chunk of chunked transfer coding: its size in hex, CRLF, the bytes, CRLF.
    static func frame(_ chunk: ByteBuffer, into buffer: inout ByteBuffer) {
        let size = chunk.readableBytes
        var digits = 1
        while size >> (4 * digits) > 0 { digits += 1 }
        buffer.reserveCapacity(minimumWritableBytes: digits + size + 4)
        for shift in stride(from: 4 * (digits - 1), through: 0, by: -4) {
            buffer.writeInteger(hexDigits[(size >> shift) & 0xF])
        }
        buffer.writeStaticString("\r\n")
        var chunk = chunk
        buffer.writeBuffer(&chunk)
        buffer.writeStaticString("\r\n")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private func waitForFront() {
        let writable = front.eventLoop.makePromise(of: Void.self)
        frontParts.whenWritable(writable)
        writable.futureResult.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success: upstream.resumeRelay()
            case .failure: finish(.clientGone(tokens))
            }
        }
    }

    private func finish(_ result: Outcome) {
        guard let outcome else { return }
        self.outcome = nil
        outcome.succeed(result)
    }
}
