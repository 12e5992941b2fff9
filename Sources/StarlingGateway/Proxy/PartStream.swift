import NIOCore

/// A task's way into a connection's `PartBufferHandler`: the parts it reads, and waiting until it can write.
/// Cheapest from a task running on the channel's own event loop (the gateway's request tasks do): a buffered part
/// is then taken without suspending.
struct PartStream<Part: Sendable>: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<PartBufferHandler<Part>>

    /// Adds a buffering handler at the end of `channel`'s pipeline; call on the channel's event loop.
    static func install(on channel: any Channel) throws -> PartStream {
        let handler = PartBufferHandler<Part>()
        try channel.pipeline.syncOperations.addHandler(handler)
        return PartStream(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
    }

    /// The next part; throws `ProxyConnectionError` when the connection breaks or closes, nothing arrives by
    /// `deadline`, or the task is cancelled (which closes the connection).
    func next(deadline: NIODeadline = .distantFuture) async throws -> Part {
        if channel.eventLoop.inEventLoop, let part = handler.value.takeBuffered() { return part }
        return try await onLoop { handler, promise in handler.take(promise, deadline: deadline) }
    }

    /// Returns once the channel can take more writes; throws when it is gone.
    func writable() async throws {
        if channel.eventLoop.inEventLoop && channel.isWritable && channel.isActive { return }
        try await onLoop { handler, promise in handler.whenWritable(promise) }
    }

    /// Relays the parts, as they arrive, to the sink `makeSink` makes on the channel's loop (see
    /// `PartBufferHandler.relay(to:timeout:)`), and returns what the sink completes its promise with; the sink must
    /// complete it on every path, `failed` included. A cancelled task abandons the connection, which fails the
    /// sink.
    func relay<T: Sendable>(
        timeout: TimeAmount,
        to makeSink: @escaping @Sendable (PartBufferHandler<Part>, EventLoopPromise<T>) -> any PartSink<Part>
    ) async throws -> T {
        try await onLoop { handler, promise in handler.relay(to: makeSink(handler, promise), timeout: timeout) }
    }

    /// Hands the handler a promise on the channel's loop (at once when already there) and awaits it; a cancelled
    /// task abandons the connection.
    private func onLoop<T: Sendable>(
        _ start: @escaping @Sendable (PartBufferHandler<Part>, EventLoopPromise<T>) -> Void
    ) async throws -> T {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: T.self)
        let handler = self.handler
        if loop.inEventLoop {
            start(handler.value, promise)
        } else {
            loop.execute { start(handler.value, promise) }
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            loop.execute { handler.value.abandon() }
        }
    }

    /// Nothing left over from the last exchange (checked on the channel's loop; elsewhere, only that it is open).
    var isIdle: Bool {
        channel.isActive && (!channel.eventLoop.inEventLoop || handler.value.isIdle)
    }
}
