import NIOCore
import NIOHTTP1

/// The last handler of an upstream connection's pipeline: keeps the decoded response parts until the request's
/// task takes them, one at a time. It holds back reads while parts pile up, so a client that reads slowly slows
/// the model server's socket too (backpressure), and it turns a close or an error into a failure that the waiting
/// task gets once the parts before it are taken.
///
/// Lives on its channel's event loop; `UpstreamConnection` is the way in from a task.
final class UpstreamResponseHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// Parts kept before reads stop.
    static let highWatermark = 16

    private var parts = CircularBuffer<HTTPClientResponsePart>(initialCapacity: 4)
    private var waiter: EventLoopPromise<HTTPClientResponsePart>?
    private var timeout: Scheduled<Void>?
    private var failure: UpstreamConnectionError?
    private var heldRead = false
    private var context: ChannelHandlerContext?

    /// Nothing is buffered, awaited or broken: the connection can carry another request.
    var isIdle: Bool { failure == nil && parts.isEmpty && waiter == nil }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if let waiter {
            self.waiter = nil
            cancelTimeout()
            waiter.succeed(part)
        } else {
            parts.append(part)
        }
    }

    func read(context: ChannelHandlerContext) {
        if parts.count >= Self.highWatermark {
            heldRead = true
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.failed(String(describing: error)))
        context.close(promise: nil)
    }

    /// The next part now, if one is buffered.
    func takeBuffered() -> HTTPClientResponsePart? {
        guard let part = parts.popFirst() else { return nil }
        if heldRead, parts.count < Self.highWatermark / 2, let context {
            heldRead = false
            context.read()
        }
        return part
    }

    /// Completes `promise` with the next part: now if one is buffered or the connection is broken, else when one
    /// arrives, or with `.timedOut` at `deadline` (the connection is closed then: its answer can no longer be
    /// used).
    func take(_ promise: EventLoopPromise<HTTPClientResponsePart>, deadline: NIODeadline) {
        if let part = takeBuffered() {
            promise.succeed(part)
        } else if let failure {
            promise.fail(failure)
        } else {
            waiter = promise
            if heldRead, let context {
                heldRead = false
                context.read()
            }
            timeout = context?.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                timeout = nil
                fail(.timedOut)
                context?.close(promise: nil)
            }
        }
    }

    /// The task waiting for a part was cancelled: the answer is abandoned, so the connection closes.
    func abandon() {
        fail(.cancelled)
        context?.close(promise: nil)
    }

    private func fail(_ error: UpstreamConnectionError) {
        if failure == nil { failure = error }
        cancelTimeout()
        if let waiter {
            self.waiter = nil
            waiter.fail(error)
        }
    }

    private func cancelTimeout() {
        timeout?.cancel()
        timeout = nil
    }
}

/// Why an upstream connection gave no (further) answer.
enum UpstreamConnectionError: Error, Equatable, CustomStringConvertible {
    /// The model server closed the connection.
    case closed
    /// Reading or writing failed.
    case failed(String)
    /// Nothing arrived before the deadline.
    case timedOut
    /// The request's task was cancelled.
    case cancelled

    var description: String {
        switch self {
        case .closed: "the connection was closed"
        case .failed(let message): message
        case .timedOut: "no answer before the deadline"
        case .cancelled: "the request was cancelled"
        }
    }
}
