import NIOCore
import NIOHTTP1

/// A request the front read in full: its head and body, or the head alone when its body was refused.
struct IncomingRequest: Sendable {
    /// Why a body was not kept (the request is answered with an error and the connection closed).
    enum BodyRefusal: Sendable, Equatable {
        /// Larger than `maxBodyBytes`: 413.
        case tooLarge
        /// It would have taken the bodies held by all connections past `limits.maxBufferedBodyBytes`: 503.
        case overBudget
    }

    var head: HTTPRequestHead
    var body: ByteBuffer
    var bodyRefusal: BodyRefusal?
    /// When its head arrived.
    var arrival: ContinuousClock.Instant

    var path: Substring {
        let uri = head.uri[...]
        return uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri
    }
}

/// Writes one response on the front's connection, straight into the channel (from the connection's own task,
/// on its event loop, a write needs no hand-over), waiting only while the client reads slower than the answer
/// comes. Heads are passed through HTTP/1.1 rules: `connection: close` when the connection will close,
/// `keep-alive` for HTTP/1.0 clients that asked for it.
struct ResponseWriter: Sendable {
    let connection: PartStream<HTTPServerRequestPart>
    /// The response encoder's place in the pipeline: a whole response written there, encoded, goes straight to
    /// the socket. Nil where it was not found (the response then goes through the encoder).
    let outlet: NIOLoopBound<ChannelHandlerContext>?
    let version: HTTPVersion
    let keepAlive: Bool

    var channel: any Channel { connection.channel }

    /// The front connection's loop: upstream connections for this request are made on it.
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Whether a response with `status` and no content-length goes out in chunked transfer coding, as NIO's
    /// response encoder frames it: for HTTP/1.1 clients when the status allows a body (an HTTP/1.0 client reads
    /// the body to the close).
    func isChunked(_ status: HTTPResponseStatus) -> Bool {
        status.mayHaveResponseBody && (version.major > 1 || (version.major == 1 && version.minor >= 1))
    }

    func head(_ status: HTTPResponseStatus, _ headers: HTTPHeaders) async throws {
        try await send(.head(responseHead(status, headers)))
    }

    func body(_ buffer: ByteBuffer) async throws {
        try await send(.body(.byteBuffer(buffer)))
    }

    func end() async throws {
        try await send(.end(nil), last: true)
    }

    /// A whole response in one flush: encoded here and written past NIO's encoder (one piece, or the head and a
    /// large body) when it has a body and the task runs on the connection's loop, as the gateway's do; through the
    /// encoder as three parts otherwise.
    func full(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, body: ByteBuffer) async throws {
        guard channel.isActive else { throw ProxyConnectionError.closed }
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        if status.mayHaveResponseBody, let outlet, channel.eventLoop.inEventLoop {
            return try await write(responseHead(status, headers), body: body, at: outlet.value)
        }
        channel.write(HTTPServerResponsePart.head(responseHead(status, headers)), promise: nil)
        if body.readableBytes > 0 { channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil) }
        try await send(.end(nil), last: true)
    }

    /// Writes `head` and `body` encoded at the encoder's context `outlet`, in one flush; awaited as `send` awaits.
    private func write(
        _ head: HTTPResponseHead, body: ByteBuffer, at outlet: ChannelHandlerContext
    ) async throws {
        let pieces = ByteBuffer.httpMessage(body: body, allocator: channel.allocator) { $0.writeHTTPHead(head) }
        for piece in pieces.dropLast() { outlet.write(NIOAny(IOData.byteBuffer(piece)), promise: nil) }
        let bytes = pieces[pieces.count - 1]
        if keepAlive {
            outlet.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
            if !channel.isWritable { try await connection.writable() }
        } else {
            let written = channel.eventLoop.makePromise(of: Void.self)
            outlet.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: written)
            try await written.futureResult.get()
        }
    }

    /// Writes and flushes `part`. The last part before a close is awaited, so the close cannot cut it off;
    /// others are awaited only when the channel is full.
    private func send(_ part: HTTPServerResponsePart, last: Bool = false) async throws {
        guard channel.isActive else { throw ProxyConnectionError.closed }
        if last && !keepAlive {
            try await channel.writeAndFlush(part).get()
        } else {
            channel.writeAndFlush(part, promise: nil)
            if !channel.isWritable { try await connection.writable() }
        }
    }

    private func responseHead(_ status: HTTPResponseStatus, _ headers: HTTPHeaders) -> HTTPResponseHead {
        var headers = headers
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }
}
