import NIOCore
import NIOHTTP1

extension ByteBuffer {
    /// A body up to this size is written into its head's buffer (one piece to write); a larger one goes after it
    /// as a piece of its own rather than being copied.
    static let bodyBytesCopiedAfterHead = 16 << 10

    /// A message encoded as the pieces to write, in order: the head `writeHead` writes with the body after it, or,
    /// for a body over `bodyBytesCopiedAfterHead`, the head alone and then the body as it is.
    static func httpMessage(
        body: ByteBuffer, allocator: ByteBufferAllocator, head writeHead: (inout ByteBuffer) -> Void
    ) -> [ByteBuffer] {
        let copied = body.readableBytes <= bodyBytesCopiedAfterHead
        var bytes = allocator.buffer(capacity: 512 + (copied ? body.readableBytes : 0))
        writeHead(&bytes)
        guard copied else { return [bytes, body] }
        bytes.writeImmutableBuffer(body)
        return [bytes]
    }

    /// Writes `head` as HTTP/1.x: the request line, the headers as they are, and the empty line. The gateway's
    /// own encoding of what it sends upstream, so that a request goes out as one write with its body, past no
    /// encoder (NIO's writes the head, the body and the end as three parts through the pipeline).
    mutating func writeHTTPHead(_ head: HTTPRequestHead) {
        writeString(head.method.rawValue)
        writeInteger(UInt8(ascii: " "))
        writeString(head.uri)
        writeStaticString(" HTTP/")
        writeVersion(head.version)
        writeStaticString("\r\n")
        writeHeaderLines(head.headers)
    }

    /// Writes `head` as HTTP/1.x: the status line (with the status's reason phrase), the headers as they are, and
    /// the empty line.
    mutating func writeHTTPHead(_ head: HTTPResponseHead) {
        writeStaticString("HTTP/")
        writeVersion(head.version)
        writeInteger(UInt8(ascii: " "))
        let code = Int(head.status.code)
        // A status code is three digits (RFC 9110, section 15).
        writeInteger(UInt8(ascii: "0") + UInt8(code / 100 % 10))
        writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
        writeInteger(UInt8(ascii: " "))
        writeString(head.status.reasonPhrase)
        writeStaticString("\r\n")
        writeHeaderLines(head.headers)
    }

    private mutating func writeVersion(_ version: HTTPVersion) {
        writeString(String(version.major))
        writeInteger(UInt8(ascii: "."))
        writeString(String(version.minor))
    }

    private mutating func writeHeaderLines(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            writeString(name)
            writeStaticString(": ")
            writeString(value)
            writeStaticString("\r\n")
        }
        writeStaticString("\r\n")
    }
}
