import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 connection to a model server, carrying one request at a time. Made on the event loop of the
/// front connection it serves, so a request's task (which runs on that loop too) writes the request and reads the
/// answer without handing anything to another thread.
struct UpstreamConnection: Sendable {
    let parts: PartStream<UpstreamResponsePart>
    /// The pipeline's decoder, to switch a streamed answer to passing its chunks through (see `StreamRelay`).
    let decoder: NIOLoopBound<UpstreamResponseDecoder>
    /// The endpoint (`host:port`).
    let endpoint: String

    var channel: any Channel { parts.channel }
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Opens a connection to `endpoint` (`host:port`, IPv6 hosts in brackets) on `eventLoop`.
    static func connect(
        to endpoint: String, on eventLoop: any EventLoop, timeout: Duration
    ) async throws -> UpstreamConnection {
        try await connecting(to: endpoint, on: eventLoop, timeout: timeout).get()
    }

    /// `connect`, for callers on the loop that do not run a task (the scrape loops).
    static func connecting(
        to endpoint: String, on eventLoop: any EventLoop, timeout: Duration
    ) -> EventLoopFuture<UpstreamConnection> {
        let host: String
        let port: Int
        do {
            (host, port) = try hostAndPort(endpoint)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(timeout.nanoseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamResponseDecoder())
                    try channel.pipeline.syncOperations.addHandler(PartBufferHandler<UpstreamResponsePart>())
                }
            }
            .connect(host: host, port: port)
            .flatMapThrowing { channel in
                let pipeline = channel.pipeline.syncOperations
                let parts = try pipeline.handler(type: PartBufferHandler<UpstreamResponsePart>.self)
                let decoder = try pipeline.handler(type: UpstreamResponseDecoder.self)
                decoder.deliver(to: parts)
                return UpstreamConnection(
                    parts: PartStream(channel: channel, handler: NIOLoopBound(parts, eventLoop: channel.eventLoop)),
                    decoder: NIOLoopBound(decoder, eventLoop: channel.eventLoop),
                    endpoint: endpoint)
            }
    }

    static func hostAndPort(_ endpoint: String) throws -> (String, Int) {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...])
        else { throw ProxyConnectionError.failed("endpoint \"\(endpoint)\" is not host:port") }
        var host = endpoint[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return (String(host), port)
    }

    /// Writes a whole request in one flush: the head as it is, so its headers must frame the body
    /// (`content-length`). The pipeline has no request encoder; the gateway encodes its own requests.
    func send(_ head: HTTPRequestHead, body: ByteBuffer) {
        let pieces = ByteBuffer.httpMessage(body: body, allocator: channel.allocator) { $0.writeHTTPHead(head) }
        for piece in pieces.dropLast() { channel.write(IOData.byteBuffer(piece), promise: nil) }
        send(encoded: pieces[pieces.count - 1])
    }

    /// Writes a whole request already encoded (head and body, framed): a request sent again and again (a scrape)
    /// is encoded once.
    func send(encoded request: ByteBuffer) {
        channel.writeAndFlush(IOData.byteBuffer(request), promise: nil)
    }

    /// The next part of the answer; throws `ProxyConnectionError` when the connection breaks, nothing arrives by
    /// `deadline`, or the task is cancelled (which closes the connection).
    func next(deadline: NIODeadline) async throws -> UpstreamResponsePart {
        try await parts.next(deadline: deadline)
    }

    /// Whether the connection can carry another request: open, and (checked on its own loop) with nothing left
    /// over from the last one.
    var isReusable: Bool { parts.isIdle }

    func close() { channel.close(promise: nil) }
}
