import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import StarlingGateway

/// The gateway's own HTTP/1.x head encoding, read back by NIO's request decoder and by the gateway's response
/// parser.
@Suite struct HTTPHeadEncodingTests {
    @Test(arguments: [
        HTTPRequestHead(
            version: .http1_1, method: .POST, uri: "/v1/completions?x=1&name%5B%5D=a",
            headers: [
                "host": "127.0.0.1:8000", "Content-Type": "application/json", "x-dup": "1", "x-dup": "2",
                "content-length": "11",
            ]),
        HTTPRequestHead(version: .http1_0, method: .GET, uri: "/metrics", headers: ["content-length": "11"]),
        HTTPRequestHead(version: .http1_1, method: .RAW(value: "PURGE"), uri: "/", headers: ["content-length": "11"]),
    ])
    func requestHeadsReadBackAsWritten(head: HTTPRequestHead) throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
        var bytes = ByteBuffer()
        bytes.writeHTTPHead(head)
        bytes.writeString("hello world")
        try channel.writeInbound(bytes)
        guard case .head(let read) = try channel.readInbound(as: HTTPServerRequestPart.self) else {
            Issue.record("no head")
            return
        }
        #expect(read.method == head.method && read.uri == head.uri && read.version == head.version)
        #expect(Array(read.headers.map { "\($0.name): \($0.value)" }) == head.headers.map { "\($0.name): \($0.value)" })
        guard case .body(let body) = try channel.readInbound(as: HTTPServerRequestPart.self) else {
            Issue.record("no body")
            return
        }
        #expect(String(buffer: body) == "hello world")
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
        _ = try channel.finish()
    }

    @Test(arguments: [0, 100, ByteBuffer.bodyBytesCopiedAfterHead, ByteBuffer.bodyBytesCopiedAfterHead + 1])
    func aBodyGoesInTheHeadsBufferUnlessItIsLarge(size: Int) {
        let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
        let pieces = ByteBuffer.httpMessage(body: body, allocator: ByteBufferAllocator()) { $0.writeString("HEAD\r\n") }
        #expect(pieces.count == (size > ByteBuffer.bodyBytesCopiedAfterHead ? 2 : 1))
        var whole = ByteBuffer()
        for piece in pieces { whole.writeImmutableBuffer(piece) }
        #expect(String(buffer: whole) == "HEAD\r\n" + String(repeating: "x", count: size))
    }

    @Test(arguments: [
        (HTTPVersion.http1_1, HTTPResponseStatus.ok, "HTTP/1.1 200 OK\r\n"),
        (.http1_0, .notFound, "HTTP/1.0 404 Not Found\r\n"),
        (.http1_1, .tooManyRequests, "HTTP/1.1 429 Too Many Requests\r\n"),
        (.http1_1, HTTPResponseStatus(statusCode: 599), "HTTP/1.1 599 \r\n"),
        (.http1_1, HTTPResponseStatus(statusCode: 299, reasonPhrase: "Fine"), "HTTP/1.1 299 Fine\r\n"),
    ])
    func responseHeadsReadBackAsWritten(version: HTTPVersion, status: HTTPResponseStatus, statusLine: String) throws {
        let head = HTTPResponseHead(
            version: version, status: status, headers: ["content-length": "2", "x-starling-endpoint": "a:1"])
        var bytes = ByteBuffer()
        bytes.writeHTTPHead(head)
        #expect(String(buffer: bytes).hasPrefix(statusLine))
        bytes.writeString("ok")
        var parser = UpstreamResponseParser()
        parser.feed(bytes)
        guard case .head(let read) = try parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(read.version == version && read.status.code == status.code)
        #expect(read.headers["x-starling-endpoint"] == ["a:1"])
        guard case .body(let body) = try parser.next() else {
            Issue.record("no body")
            return
        }
        #expect(String(buffer: body) == "ok")
        guard case .end = try parser.next() else {
            Issue.record("no end")
            return
        }
    }
}
