import NIOCore
import NIOHTTP1

/// A request the front read in full: its head and body, or the head alone when the body was over the limit.
struct IncomingRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    /// The body was larger than the limit (and was discarded).
    var bodyTooLarge = false
    /// When its head arrived.
    var arrival: ContinuousClock.Instant

    var path: Substring {
        let uri = head.uri[...]
        return uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri
    }
}

/// Writes one response on the front's connection. Heads are passed through HTTP/1.1 rules: `connection: close`
/// when the connection will close, `keep-alive` for HTTP/1.0 clients that asked for it.
struct ResponseWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    /// The front connection's loop: upstream connections for this request are made on it.
    let eventLoop: any EventLoop
    let version: HTTPVersion
    let keepAlive: Bool

    func head(_ status: HTTPResponseStatus, _ headers: HTTPHeaders) async throws {
        try await outbound.write(.head(responseHead(status, headers)))
    }

    func body(_ buffer: ByteBuffer) async throws {
        try await outbound.write(.body(.byteBuffer(buffer)))
    }

    func end() async throws {
        try await outbound.write(.end(nil))
    }

    /// A whole response in one write.
    func full(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, body: ByteBuffer) async throws {
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        try await outbound.write(contentsOf: [
            .head(responseHead(status, headers)), .body(.byteBuffer(body)), .end(nil),
        ])
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
