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
        let loop = channel.eventLoop
        if loop.inEventLoop, let part = handler.value.takeBuffered() { return part }
        let promise = loop.makePromise(of: Part.self)
        let handler = self.handler
        if loop.inEventLoop {
            handler.value.take(promise, deadline: deadline)
        } else {
            loop.execute { handler.value.take(promise, deadline: deadline) }
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            loop.execute { handler.value.abandon() }
        }
    }

    /// Returns once the channel can take more writes; throws when it is gone.
    func writable() async throws {
        let loop = channel.eventLoop
        if loop.inEventLoop && channel.isWritable && channel.isActive { return }
        let promise = loop.makePromise(of: Void.self)
        let handler = self.handler
        loop.execute { handler.value.whenWritable(promise) }
        try await withTaskCancellationHandler {
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
