import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// What a `ConnectionLimitHandler` needs to know of one HTTP stack's part types.
public protocol HTTPPartFlavor: Sendable {
    associatedtype RequestPart: Sendable
    associatedtype ResponsePart: Sendable
    /// The deadline event a request part is, if any (body parts are none).
    static func event(of part: RequestPart) -> ConnectionDeadlines.Event?
    static func isResponseEnd(_ part: ResponsePart) -> Bool
    /// A complete response refusing the request: `status`, `retry-after: 1`, the body, and a close.
    static func refusal(status: Int, contentType: String, body: String) -> [ResponsePart]
}

/// NIOHTTP1's parts (the gateway's front).
public enum NIOHTTP1Flavor: HTTPPartFlavor {
    public static func event(of part: HTTPServerRequestPart) -> ConnectionDeadlines.Event? {
        switch part {
        case .head: .head
        case .body: nil
        case .end: .requestEnd
        }
    }

    public static func isResponseEnd(_ part: HTTPServerResponsePart) -> Bool {
        if case .end = part { return true }
        return false
    }

    public static func refusal(status: Int, contentType: String, body text: String) -> [HTTPServerResponsePart] {
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
        let body = ByteBuffer(string: text)
        head.headers.add(name: "content-type", value: contentType)
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        head.headers.add(name: "retry-after", value: "1")
        head.headers.add(name: "connection", value: "close")
        return [.head(head), .body(.byteBuffer(body)), .end(nil)]
    }
}

/// swift-http-types' parts (Hummingbird, the API server).
public enum HTTPTypesFlavor: HTTPPartFlavor {
    public static func event(of part: HTTPRequestPart) -> ConnectionDeadlines.Event? {
        switch part {
        case .head: .head
        case .body: nil
        case .end: .requestEnd
        }
    }

    public static func isResponseEnd(_ part: HTTPResponsePart) -> Bool {
        if case .end = part { return true }
        return false
    }

    public static func refusal(status: Int, contentType: String, body text: String) -> [HTTPResponsePart] {
        let body = ByteBuffer(string: text)
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.contentLength] = String(body.readableBytes)
        fields[.retryAfter] = "1"
        fields[.connection] = "close"
        return [.head(HTTPResponse(status: .init(code: status), headerFields: fields)), .body(body), .end(nil)]
    }
}

/// Why a connection limit closed or refused a connection, for metrics and logs.
public enum ConnectionLimitEvent: String, Sendable {
    case headerTimeout = "header_timeout"
    case bodyTimeout = "body_timeout"
    case idleTimeout = "idle_timeout"
    case tooManyConnections = "too_many_connections"
}

/// Enforces `ConnectionLimits` on one connection: admits it against the server's connection cap (refusing an
/// extra one with a 503 to its first request, or closing it after `headerTimeout` if none comes), and closes it
/// when the deadline of its phase passes. Sits after the HTTP decoder. A server that writes responses past the
/// handler (the gateway's encoded answers) calls `responseEnded()` itself.
public final class ConnectionLimitHandler<Flavor: HTTPPartFlavor>: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = Flavor.RequestPart
    public typealias InboundOut = Flavor.RequestPart
    public typealias OutboundIn = Flavor.ResponsePart
    public typealias OutboundOut = Flavor.ResponsePart

    let limits: ConnectionLimits
    let counter: ConnectionCounter
    let refusal: (contentType: String, body: String)
    let onLimit: @Sendable (ConnectionLimitEvent) -> Void
    var deadlines: ConnectionDeadlines
    var timer: Scheduled<Void>?
    var admitted = false
    var context: ChannelHandlerContext?

    /// - Parameters:
    ///   - counter: shared by all connections of the server.
    ///   - refusal: the content type and body of the 503 an extra connection gets.
    ///   - onLimit: told each time a limit closes or refuses a connection (on the event loop).
    public init(
        limits: ConnectionLimits, counter: ConnectionCounter, refusal: (contentType: String, body: String),
        onLimit: @escaping @Sendable (ConnectionLimitEvent) -> Void = { _ in }
    ) {
        self.limits = limits
        self.counter = counter
        self.refusal = refusal
        self.onLimit = onLimit
        // Made for one connection, just before it is added to that connection's pipeline.
        self.deadlines = ConnectionDeadlines(limits: limits, now: .now)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        admitted = counter.admit()
        arm(context)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
        if admitted {
            admitted = false
            counter.leave()
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard admitted else {
            // Over the cap: answer the first request with a 503 and close; read nothing else.
            if case .head? = Flavor.event(of: part) { refuse(context) }
            return
        }
        if let event = Flavor.event(of: part), deadlines.record(event, now: .now) { arm(context) }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if Flavor.isResponseEnd(unwrapOutboundIn(data)) { recordResponseEnd(context) }
        context.write(data, promise: promise)
    }

    /// The response to the current request is complete (for servers that write past this handler). Call on the
    /// channel's event loop.
    public func responseEnded() {
        if let context { recordResponseEnd(context) }
    }

    private func recordResponseEnd(_ context: ChannelHandlerContext) {
        if deadlines.record(.responseEnd, now: .now) { arm(context) }
    }

    private func refuse(_ context: ChannelHandlerContext) {
        onLimit(.tooManyConnections)
        let parts = Flavor.refusal(status: 503, contentType: refusal.contentType, body: refusal.body)
        for part in parts.dropLast() { context.write(wrapOutboundOut(part), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(parts[parts.count - 1])).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        guard let deadline = deadlines.deadline else { return }
        let delay = deadline - .now
        let nanoseconds = max(
            0, delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            loopBound.value.expire()
        }
    }

    private func expire() {
        guard let context else { return }
        guard let expiry = deadlines.expiry(at: .now) else {
            arm(context)
            return
        }
        switch expiry {
        case .header: onLimit(.headerTimeout)
        case .body: onLimit(.bodyTimeout)
        case .idle: onLimit(.idleTimeout)
        }
        context.close(promise: nil)
    }
}
