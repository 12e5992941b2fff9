import NIOCore

/// Closes a connection whose client closed its side, as uvicorn (vLLM's server) treats it: the client has gone, so
/// its request is abandoned. Hummingbird allows half-closed connections and would otherwise keep generating a
/// response for nobody until it finished.
final class ClientEOFHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
