import NIOCore

/// The last handler of a proxied connection's pipeline, front or upstream: keeps the decoded parts (request or
/// response parts) until the task serving the connection takes them, one at a time. It holds back reads while
/// parts pile up, so a slow reader slows the socket too (backpressure); it turns a close or an error into a
/// failure the task gets once the parts before it are taken; and it tells a writer when the channel can take
/// more. Or it relays the parts, as they arrive, to a `PartSink` on the same loop, with the same backpressure and
/// deadline.
///
/// Lives on its channel's event loop; `PartStream` is the way in from a task.
final class PartBufferHandler<Part: Sendable>: ChannelDuplexHandler {
    typealias InboundIn = Part
    typealias OutboundIn = Any

    /// Parts kept before reads stop.
    static var highWatermark: Int { 16 }

    private var parts = CircularBuffer<Part>(initialCapacity: 4)
    private var waiter: EventLoopPromise<Part>?
    private var writableWaiter: EventLoopPromise<Void>?
    /// The waiting take's deadline, or the relay's next one (nil without one).
    private var waiterDeadline: NIODeadline?
    /// Set while parts are relayed; `sinkPaused` while it wants none.
    private var sink: (any PartSink<Part>)?
    private var sinkPaused = false
    /// The longest a relay waits for each part.
    private var relayTimeout = TimeAmount.zero
    /// A part went to the sink during the read in progress.
    private var relayedInRead = false
    /// One timer for the connection, not one per take: a streamed answer waits for every chunk, and scheduling
    /// and cancelling a task for each took 4% of the gateway's CPU. When it fires it fails a take that is past
    /// its deadline or moves itself to the deadline of the one waiting now.
    private var timer: (task: Scheduled<Void>, deadline: NIODeadline)?
    private var failure: ProxyConnectionError?
    private var heldRead = false
    private var context: ChannelHandlerContext?

    /// Nothing is buffered, awaited or broken: the connection can carry another exchange.
    var isIdle: Bool { failure == nil && parts.isEmpty && waiter == nil && sink == nil }

    /// Whether the channel takes more writes now, kept from its writability events: a relay asks before every
    /// chunk, and a stored flag costs less than asking the channel each time.
    private(set) var isWritable = true

    /// The connection closed, failed or was abandoned: nothing written to it will arrive.
    var isBroken: Bool { failure != nil }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        isWritable = context.channel.isWritable
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(unwrapInboundIn(data))
    }

    /// A part read from the connection (from `channelRead`, or straight from the decoder before this handler).
    func receive(_ part: Part) {
        if let sink, !sinkPaused {
            deliver(part, to: sink)
        } else if let waiter {
            self.waiter = nil
            waiterDeadline = nil
            waiter.succeed(part)
        } else {
            parts.append(part)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        defer { relayedInRead = false }
        if let sink, !sinkPaused {
            sink.readComplete()
            // The parts of one read arrive together: the next is due a timeout after them.
            if relayedInRead, self.sink != nil, !sinkPaused { restartRelayDeadline(context.eventLoop) }
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if parts.count >= Self.highWatermark {
            heldRead = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        if isWritable, let writableWaiter {
            self.writableWaiter = nil
            writableWaiter.succeed()
        }
        context.fireChannelWritabilityChanged()
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
    func takeBuffered() -> Part? {
        guard let part = parts.popFirst() else { return nil }
        if heldRead, parts.count < Self.highWatermark / 2, let context {
            heldRead = false
            context.read()
        }
        return part
    }

    /// Completes `promise` with the next part: now if one is buffered or the connection is broken, else when one
    /// arrives, or with `.timedOut` at `deadline` (the connection is closed then: what comes later can no longer
    /// be used). `.distantFuture` waits without a deadline.
    func take(_ promise: EventLoopPromise<Part>, deadline: NIODeadline) {
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
            guard deadline != .distantFuture else { return }
            waiterDeadline = deadline
            armTimer(for: deadline)
        }
    }

    /// Makes sure the timer fires by `deadline`: a timer due earlier stays (it moves on when it fires), a later
    /// one is replaced.
    private func armTimer(for deadline: NIODeadline) {
        if let timer, timer.deadline <= deadline { return }
        cancelTimer()
        guard let loop = context?.eventLoop.assumeIsolated() else { return }
        timer = (loop.scheduleTask(deadline: deadline) { [self] in timerFired() }, deadline)
    }

    private func timerFired() {
        timer = nil
        guard let deadline = waiterDeadline, let context else { return }
        if deadline <= context.eventLoop.now {
            fail(.timedOut)
            context.close(promise: nil)
        } else {
            armTimer(for: deadline)
        }
    }

    /// Hands every part from now on to `sink` as it arrives, the buffered ones first, until the sink says `.done`
    /// or the connection fails (`sink.failed`); each part must come within `timeout` of the last one (or of the
    /// start, or of a resume), or the connection closes with `.timedOut`. Not while a take is waiting.
    func relay(to sink: any PartSink<Part>, timeout: TimeAmount) {
        precondition(waiter == nil && self.sink == nil, "a relay while the connection's parts are awaited")
        self.sink = sink
        relayTimeout = timeout
        resumeRelay()
    }

    /// Starts handing parts to a paused sink again.
    func resumeRelay() {
        guard let sink, let loop = context?.eventLoop else { return }
        sinkPaused = false
        while !sinkPaused, self.sink != nil, let part = parts.popFirst() {
            deliver(part, to: sink)
        }
        guard !sinkPaused, self.sink != nil else { return }
        if let failure {
            self.sink = nil
            return sink.failed(failure)
        }
        sink.readComplete()
        restartRelayDeadline(loop)
        if heldRead, let context {
            heldRead = false
            context.read()
        }
    }

    private func deliver(_ part: Part, to sink: any PartSink<Part>) {
        switch sink.receive(part) {
        case .more:
            // The deadline moves on once the read is complete (`channelReadComplete`): one clock read per read.
            relayedInRead = true
        case .pause:
            sinkPaused = true
            waiterDeadline = nil
        case .done:
            self.sink = nil
            waiterDeadline = nil
        }
    }

    /// The next part of a relay is due within `relayTimeout` from now.
    private func restartRelayDeadline(_ loop: any EventLoop) {
        let deadline = loop.now + relayTimeout
        waiterDeadline = deadline
        armTimer(for: deadline)
    }

    /// Completes `promise` once the channel can take more writes (at once if it can now), or fails it when the
    /// connection is gone.
    func whenWritable(_ promise: EventLoopPromise<Void>) {
        guard let context, context.channel.isActive else { return promise.fail(failure ?? .closed) }
        if context.channel.isWritable {
            promise.succeed()
        } else {
            writableWaiter?.fail(ProxyConnectionError.cancelled)
            writableWaiter = promise
        }
    }

    /// The task waiting for a part was cancelled: what the connection carries is abandoned, so it closes.
    func abandon() {
        fail(.cancelled)
        context?.close(promise: nil)
    }

    private func fail(_ error: ProxyConnectionError) {
        if failure == nil { failure = error }
        cancelTimer()
        if let waiter {
            self.waiter = nil
            waiterDeadline = nil
            waiter.fail(error)
        }
        if let writableWaiter {
            self.writableWaiter = nil
            writableWaiter.fail(error)
        }
        if let sink {
            self.sink = nil
            waiterDeadline = nil
            sink.failed(error)
        }
    }

    private func cancelTimer() {
        timer?.task.cancel()
        timer = nil
    }
}

/// Why a proxied connection gave no (further) part or took no more writes.
enum ProxyConnectionError: Error, Equatable, CustomStringConvertible {
    /// The peer closed the connection.
    case closed
    /// Reading or writing failed.
    case failed(String)
    /// Nothing arrived before the deadline.
    case timedOut
    /// The task was cancelled.
    case cancelled

    var description: String {
        switch self {
        case .closed: "the connection was closed"
        case .failed(let message): message
        case .timedOut: "no answer before the deadline"
        case .cancelled: "the request was cancelled"
        }
    }

    /// An answer with a second response head in it.
    static let secondStatusLine = ProxyConnectionError.failed("a second status line in one answer")
}
