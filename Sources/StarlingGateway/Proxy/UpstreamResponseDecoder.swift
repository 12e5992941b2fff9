import NIOCore

/// The reading end of an upstream connection's pipeline: turns the socket's bytes into `UpstreamResponsePart`s
/// with an `UpstreamResponseParser`. A malformed answer becomes an error event (the buffering handler after it
/// fails the connection's reader and closes it), and nothing after it is read.
final class UpstreamResponseDecoder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = UpstreamResponsePart

    private var parser = UpstreamResponseParser()
    private var active = true

    /// From the next chunk boundary of the answer being read to its last chunk, hands the chunks on as they came
    /// (`.chunks`) rather than as body bytes. Call on the channel's loop.
    func passChunksThrough() { parser.passesChunksThrough = true }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parser.feed(unwrapInboundIn(data))
        // One part at a time, with the parser not in use while a part goes on: a handler after this one may close
        // the channel, which comes back here as `channelInactive`.
        while active {
            let part: UpstreamResponsePart?
            do {
                part = try parser.next()
            } catch {
                context.fireErrorCaught(error)
                return
            }
            guard let part else { return }
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        if let part = parser.finish() { context.fireChannelRead(wrapInboundOut(part)) }
        context.fireChannelInactive()
    }
}
