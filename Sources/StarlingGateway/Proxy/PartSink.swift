/// Takes a connection's parts on its event loop as they arrive, in place of a task taking them one at a time (see
/// `PartBufferHandler.relay(to:timeout:)`): a streamed answer's chunks go on to the client without waking a task
/// per chunk.
protocol PartSink<Part>: AnyObject {
    associatedtype Part

    /// Handles one part; says whether the sink wants more now, later, or never.
    func receive(_ part: Part) -> PartSinkDemand

    /// The end of one read from the socket: what `receive` wrote since the last one can be flushed together.
    func readComplete()

    /// The connection broke, timed out or was abandoned before the sink said `.done`; it gets no more parts.
    func failed(_ error: ProxyConnectionError)
}

/// What a `PartSink` wants after a part.
enum PartSinkDemand {
    /// The next part as soon as it arrives.
    case more
    /// Nothing until it calls `PartBufferHandler.resumeRelay()`: parts are buffered, reads stop once the buffer is
    /// full, and there is no deadline meanwhile (the wait is the client's, not the server's).
    case pause
    /// Nothing more: the relay ends and later parts are buffered for a task again.
    case done
}
