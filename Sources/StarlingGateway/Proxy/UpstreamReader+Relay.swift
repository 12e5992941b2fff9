import NIOCore
import NIOHTTP1

extension UpstreamReader {
    /// Relays the rest of a streamed answer to `writer`'s client on the loop both connections share (see
    /// `StreamRelay`); hands the connection back to the pool when the answer ended cleanly, closes it otherwise.
    func relay(
        to writer: ResponseWriter, status: HTTPResponseStatus, start: ContinuousClock.Instant,
        onFirstToken: (@Sendable () -> Void)?
    ) async -> StreamRelay.Outcome {
        let front = writer.connection
        let outcome: StreamRelay.Outcome
        let chunked = writer.isChunked(status)
        let decoder = connection.decoder
        let outlet = writer.outlet
        do {
            outcome = try await connection.parts.relay(timeout: timeout) { upstream, promise in
                // A chunked answer's chunks can go to a chunked response as they came.
                if chunked { decoder.value.passChunksThrough() }
                return StreamRelay(
                    front: front.channel, outlet: outlet.flatMap { $0.eventLoop.inEventLoop ? $0.value : nil },
                    frontParts: front.handler.value, chunked: chunked,
                    upstream: upstream, start: start, onFirstToken: onFirstToken, outcome: promise)
            }
        } catch {
            outcome = .clientGone(TokenTimer(start: start))
        }
        if case .ended = outcome {
            pool.release(connection, reusable: keepAlive)
        } else {
            connection.close()
        }
        return outcome
    }
}
