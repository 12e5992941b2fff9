import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import StarlingServerLimits
import Synchronization

/// The gateway's HTTP/1.1 server, on SwiftNIO directly: keep-alive, bodies read in full up to a limit (413
/// beyond it, `100-continue` answered), and, unlike a plain request/response server, a closed client
/// connection cancels the handler of the request in progress, so the upstream request stops too.
struct HTTPFront: Service {
    typealias Handler = @Sendable (IncomingRequest, ResponseWriter) async -> Void

    var host: String
    var port: Int
    /// Where the connections run (and the upstream connections made for them).
    var group: MultiThreadedEventLoopGroup
    /// Request bodies held by all connections at once, against `limits.maxBufferedBodyBytes`.
    var bodies: ByteBudget
    var maxBodyBytes: Int
    var limits: ConnectionLimits
    /// Told when a limit closes or refuses a connection.
    var onLimit: @Sendable (ConnectionLimitEvent) -> Void
    var logger: Logger
    var handler: Handler
    var onListening: @Sendable (Int) async -> Void

    func run() async throws {
        let limits = self.limits
        let counter = ConnectionCounter(limit: limits.maxConnections)
        let onLimit = self.onLimit
        let refusal = GatewayError(
            status: 503,
            "The gateway has its limit of \(limits.maxConnections) connections open (limits.maxConnections); retry",
            type: "ServiceUnavailableError"
        ).error.json
        let refusalBody = String(decoding: refusal, as: UTF8.self)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(clamping: limits.listenBacklog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No outbound header validation: every header written is either parsed from a request or an
                    // answer (so it holds no CR or LF) or the gateway's own. No pipelining assistance: it stops
                    // reading while a response is pending (two epoll_ctl calls per request); one task answers the
                    // connection's requests in order anyway, and `PartBufferHandler` bounds what is read ahead.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: false, withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionLimitHandler<NIOHTTP1Flavor>(
                            limits: limits, counter: counter, refusal: ("application/json", refusalBody),
                            onLimit: onLimit))
                    return try PartStream<HTTPServerRequestPart>.install(on: channel)
                }
            }
        await onListening(server.channel.localAddress?.port ?? 0)
        let connections = ConnectionRegistry()
        try await withGracefulShutdownHandler {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await serve(connection, registry: connections) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
            connections.shutDown()
        }
        logger.debug("gateway front stopped")
    }

    private func serve(_ connection: PartStream<HTTPServerRequestPart>, registry: ConnectionRegistry) async {
        let channel = connection.channel
        let id = registry.add(channel)
        defer { registry.remove(id) }
        // One task reads the connection's requests and answers each in turn, on the channel's own event loop: no
        // hand-over between threads per request. A client that goes away closes the channel (remote half-closure
        // is off), and the close cancels the task, which stops the request in progress upstream.
        let task = Task(executorPreference: EventLoopTaskExecutor(channel.eventLoop)) {
            await respond(connection, id: id, registry: registry)
            try? await channel.close()
        }
        channel.closeFuture.whenComplete { _ in task.cancel() }
        await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// Reads requests off the connection and answers them until the client closes it, a response closes it, or a
    /// body is refused (over `maxBodyBytes`: 413; over the shared budget: 503), answered at once with a close.
    private func respond(
        _ connection: PartStream<HTTPServerRequestPart>, id: Int, registry: ConnectionRegistry
    ) async {
        var head: HTTPRequestHead?
        var body = ByteBuffer()
        var refusal: IncomingRequest.BodyRefusal?
        // Bytes of this request's body reserved against the front's shared budget; given back after its answer.
        var reserved = 0
        defer { bodies.release(reserved) }
        var arrival = ContinuousClock.now
        // Looked up once per connection, on its loop: the response encoder's place in the pipeline, where a whole
        // response can be written already encoded, and the limit handler, told when each response has ended (the
        // responses are written past it).
        let channel = connection.channel
        let inLoop = channel.eventLoop.inEventLoop
        let outlet =
            inLoop
            ? (try? channel.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)).map {
                NIOLoopBound($0, eventLoop: channel.eventLoop)
            } : nil
        let limiter =
            inLoop
            ? (try? channel.pipeline.syncOperations.handler(type: ConnectionLimitHandler<NIOHTTP1Flavor>.self)).map {
                NIOLoopBound($0, eventLoop: channel.eventLoop)
            } : nil
        func answer(_ request: IncomingRequest) async -> Bool {
            let open = await self.answer(request, connection, outlet: outlet, id: id, registry: registry)
            if let limiter {
                if channel.eventLoop.inEventLoop {
                    limiter.value.responseEnded()
                } else {
                    channel.eventLoop.execute { limiter.value.responseEnded() }
                }
            }
            return open
        }
        while true {
            let part: HTTPServerRequestPart
            do {
                part = try await connection.next()
            } catch {
                logger.trace("connection ended", metadata: ["error.message": "\(error)"])
                return
            }
            switch part {
            case .head(let h):
                head = h
                arrival = .now
                refusal = nil
                let declared = h.headers.first(name: "content-length").flatMap { Int($0) }
                body = ByteBuffer()
                if let declared, declared > maxBodyBytes {
                    refusal = .tooLarge
                } else if let declared {
                    if bodies.reserve(declared) {
                        reserved += declared
                        body.reserveCapacity(declared)
                    } else {
                        refusal = .overBudget
                    }
                }
                if refusal == nil && h.headers.first(name: "expect")?.lowercased() == "100-continue" {
                    let proceed = HTTPServerResponsePart.head(HTTPResponseHead(version: h.version, status: .continue))
                    connection.channel.writeAndFlush(proceed, promise: nil)
                }
            case .body(var chunk):
                guard head != nil else { continue }
                let needed = body.readableBytes + chunk.readableBytes - reserved
                if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                    refusal = .tooLarge
                } else if needed > 0 && !bodies.reserve(needed) {
                    refusal = .overBudget
                } else {
                    reserved += max(0, needed)
                    if body.readableBytes == 0 {
                        body = chunk
                    } else {
                        body.writeBuffer(&chunk)
                    }
                }
            case .end:
                guard let h = head else { continue }
                let request = IncomingRequest(head: h, body: body, arrival: arrival)
                head = nil
                body = ByteBuffer()
                let open = await answer(request)
                bodies.release(reserved)
                reserved = 0
                guard open else { return }
            }
            if let refusal, let h = head {
                // Answered at once, and the connection closed: the rest of the body is not read (nginx answers a
                // too-large declared body the same way), so a stalled or oversized body holds nothing.
                _ = await answer(IncomingRequest(head: h, body: ByteBuffer(), bodyRefusal: refusal, arrival: arrival))
                return
            }
        }
    }

    /// Answers one request; whether the connection stays open for the next one.
    private func answer(
        _ request: IncomingRequest, _ connection: PartStream<HTTPServerRequestPart>,
        outlet: NIOLoopBound<ChannelHandlerContext>?, id: Int, registry: ConnectionRegistry
    ) async -> Bool {
        registry.setBusy(id, true)
        let keepAlive = request.head.isKeepAlive && request.bodyRefusal == nil && !registry.isShuttingDown
        let writer = ResponseWriter(
            connection: connection, outlet: outlet, version: request.head.version, keepAlive: keepAlive)
        await handler(request, writer)
        registry.setBusy(id, false)
        return keepAlive && connection.channel.isActive
    }
}

/// The front's open connections, so a graceful shutdown can close the idle ones at once and let busy ones
/// finish their response.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        var busy = false
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var next = 0
        var shuttingDown = false
    }

    private let state = Mutex(State())

    func add(_ channel: any Channel) -> Int {
        let (id, close) = state.withLock { state -> (Int, Bool) in
            state.next += 1
            state.entries[state.next] = Entry(channel: channel)
            return (state.next, state.shuttingDown)
        }
        if close { channel.close(promise: nil) }
        return id
    }

    func remove(_ id: Int) { _ = state.withLock { $0.entries.removeValue(forKey: id) } }

    func setBusy(_ id: Int, _ busy: Bool) {
        let close = state.withLock { state -> (any Channel)? in
            state.entries[id]?.busy = busy
            return !busy && state.shuttingDown ? state.entries[id]?.channel : nil
        }
        close?.close(promise: nil)
    }

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Closes idle connections now; busy ones close after their response.
    func shutDown() {
        let idle = state.withLock { state -> [any Channel] in
            state.shuttingDown = true
            return state.entries.values.filter { !$0.busy }.map(\.channel)
        }
        for channel in idle { channel.close(promise: nil) }
    }
}
