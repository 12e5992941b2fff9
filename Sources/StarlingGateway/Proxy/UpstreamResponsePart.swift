import NIOCore
import NIOHTTP1

/// A piece of a model server's answer as `UpstreamResponseDecoder` hands it on.
enum UpstreamResponsePart: Sendable {
    /// The status line and headers (an informational answer's too; no `end` follows one of those).
    case head(HTTPResponseHead)
    /// Body bytes, with any transfer coding taken off.
    case body(ByteBuffer)
    /// Chunks of a chunked body exactly as they came: size lines (with any extensions), data and CRLFs. Only while
    /// the decoder passes chunks through (see `UpstreamResponseParser.passesChunksThrough`); a piece never ends
    /// inside a size line and never holds the last chunk, so pieces can be written one after another to a client
    /// whose response is chunked, and the client's end written after them.
    case chunks(ByteBuffer)
    /// The end of the answer (trailers are dropped).
    case end
}
