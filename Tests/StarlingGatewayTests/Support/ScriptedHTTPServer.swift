import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP/1.1 server whose answers a test scripts (by path and by how many requests the connection has
/// carried), and whose connections a test can close: for the edges of upstream connection reuse that a real
/// model server does not show on demand.
final class ScriptedHTTPServer: Sendable {
    enum Answer: Sendable {
        /// 200 with this body and a content-length.
        case text(String)
        /// 200 with `count` chunks of `size` bytes, chunked.
        case chunks(count: Int, size: Int)
        /// Nothing at all; the connection stays open.
        case silent
        /// The connection closes without an answer.
        case close
    }

    typealias Script = @Sendable (_ head: HTTPRequestHead, _ requestOnConnection: Int) -> Answer

    private let channel: any Channel
    private let shared: Shared
    let port: Int

    private init(channel: any Channel, shared: Shared) {
        self.channel = channel
        self.shared = shared
        port = channel.localAddress?.port ?? 0
    }

    static func start(_ script: @escaping Script) async throws -> ScriptedHTTPServer {
        let shared = Shared(script: script)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    shared.opened(channel)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(shared: shared))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedHTTPServer(channel: channel, shared: shared)
    }

    var endpoint: String { "127.0.0.1:\(port)" }

    /// Connections accepted so far.
    var connectionsAccepted: Int { shared.state.withLock { $0.accepted } }

    /// Requests read so far for `path`.
    func requestsRead(_ path: String) -> Int { shared.state.withLock { $0.requests[path, default: 0] } }

    /// Closes every open connection (as a server does with idle keep-alive connections).
    func closeConnections() async {
        let open = shared.state.withLock { state in
            defer { state.open = [] }
            return state.open
        }
        for channel in open { try? await channel.close() }
    }

    func stop() async {
        await closeConnections()
        try? await channel.close()
    }

    private final class Shared: Sendable {
        struct State {
            var open: [any Channel] = []
            var accepted = 0
            var requests: [String: Int] = [:]
        }

        let script: Script
        let state = Mutex(State())

        init(script: @escaping Script) { self.script = script }

        func opened(_ channel: any Channel) {
            state.withLock {
                $0.open.append(channel)
                $0.accepted += 1
            }
        }

        func read(_ path: String) { state.withLock { $0.requests[path, default: 0] += 1 } }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let shared: Shared
        var head: HTTPRequestHead?
        var served = 0

        init(shared: Shared) { self.shared = shared }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h
            case .body: break
            case .end:
                guard let head else { return }
                served += 1
                shared.read(head.uri)
                answer(shared.script(head, served), context: context)
            }
        }

        private func answer(_ answer: Answer, context: ChannelHandlerContext) {
            switch answer {
            case .text(let text):
                let head = HTTPResponseHead(
                    version: .http1_1, status: .ok,
                    headers: ["content-length": String(text.utf8.count), "content-type": "text/plain"])
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case .chunks(let count, let size):
                let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-type": "text/plain"])
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
                for _ in 0..<count { context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil) }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case .silent:
                break
            case .close:
                context.close(promise: nil)
            }
        }
    }
}
