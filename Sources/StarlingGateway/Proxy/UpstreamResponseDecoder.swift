import NIOCore

/// The reading end of an upstream connection's pipeline: turns the socket's bytes into `UpstreamResponsePart`s
/// with an `UpstreamResponseParser`. A malformed answer becomes an error event (the buffering handler after it
/// fails the connection's reader and closes it), and nothing after it is read.
final class UpstreamResponseDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = UpstreamResponsePart

    private var parser = UpstreamResponseParser()
    private var active = true
    /// The buffering handler right after this one, when `deliver(to:)` named it: it gets each part by a direct
    /// call, not through the pipeline, which wraps every part in `NIOAny` and casts it back.
    private var parts: PartBufferHandler<UpstreamResponsePart>?

    /// Hands parts straight to `handler`, which must be the next inbound handler in the pipeline. On the loop.
    func deliver(to handler: PartBufferHandler<UpstreamResponsePart>) { parts = handler }

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
            forward(part, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        if let part = parser.finish() { forward(part, context: context) }
        context.fireChannelInactive()
    }

    private func forward(_ part: UpstreamResponsePart, context: ChannelHandlerContext) {
        if let parts {
            parts.receive(part)
        } else {
            context.fireChannelRead(wrapInboundOut(part))
        }
    }
}
