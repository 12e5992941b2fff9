import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import StarlingGateway

@Suite struct UpstreamResponseParserTests {
    /// A part, reduced to what the tests compare; body bytes and passed chunks of consecutive parts are joined,
    /// so that the same answer split differently reads the same.
    enum Piece: Equatable, CustomStringConvertible {
        case head(Int, String)
        case body(String)
        case chunks(String)
        case end

        var description: String {
            switch self {
            case .head(let code, let headers): "head(\(code), \(headers))"
            case .body(let text): "body(\(text.debugDescription))"
            case .chunks(let text): "chunks(\(text.debugDescription))"
            case .end: "end"
            }
        }
    }

    /// Feeds `reads` one at a time (passing chunks through from the start when `passThrough`) and collects the
    /// parts; `closed` ends with the connection closing.
    static func parse(_ reads: [String], passThrough: Bool = false, closed: Bool = false) throws -> [Piece] {
        var parser = UpstreamResponseParser(maxHeadBytes: 256)
        parser.passesChunksThrough = passThrough
        var pieces: [Piece] = []
        func add(_ part: UpstreamResponsePart) {
            switch (part, pieces.last) {
            case (.head(let head), _):
                let headers = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                pieces.append(.head(Int(head.status.code), headers))
                if passThrough { parser.passesChunksThrough = true }
            case (.body(let bytes), .body(let before)?):
                pieces[pieces.count - 1] = .body(before + String(buffer: bytes))
            case (.body(let bytes), _): pieces.append(.body(String(buffer: bytes)))
            case (.chunks(let bytes), .chunks(let before)?):
                pieces[pieces.count - 1] = .chunks(before + String(buffer: bytes))
            case (.chunks(let bytes), _): pieces.append(.chunks(String(buffer: bytes)))
            case (.end, _): pieces.append(.end)
            }
        }
        for read in reads {
            parser.feed(ByteBuffer(string: read))
            while let part = try parser.next() { add(part) }
        }
        if closed, let part = parser.finish() { add(part) }
        return pieces
    }

    /// Every way of cutting `text` into two reads.
    static func splits(_ text: String) -> [[String]] {
        let bytes = Array(text.utf8)
        return (0...bytes.count).map { cut in
            [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
        }
    }

    static let chunked = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    static let chunkedHead = Piece.head(200, "content-type=text/event-stream,transfer-encoding=chunked")
    static let chunkedBody = "5\r\nhello\r\n1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n"

    @Test(arguments: [
        (
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            [Piece.head(200, "content-length=5"), .body("hello"), .end]
        ),
        (chunked + chunkedBody + "0\r\n\r\n", [chunkedHead, .body("hello" + "abcdefghijklmnopqrstuvwxyz"), .end]),
        (chunked + "3\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n", [chunkedHead, .body("abc"), .end]),
        ("HTTP/1.1 204 No Content\r\n\r\n", [.head(204, ""), .end]),
        ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", [.head(200, "content-length=0"), .end]),
        ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", [.head(100, ""), .head(204, ""), .end]),
        ("\r\nHTTP/1.0 200 OK\nServer: sim \n\nhello", [.head(200, "Server=sim"), .body("hello")]),
        (
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            [.head(200, "content-length=2"), .body("hi"), .end, .head(404, "content-length=0"), .end]
        ),
    ])
    func answersReadTheSameHoweverTheBytesAreCut(answer: String, expected: [Piece]) throws {
        for reads in Self.splits(answer) {
            #expect(try Self.parse(reads) == expected, "reads \(reads)")
        }
    }

    @Test func aBodyWithoutALengthRunsToTheClose() throws {
        let answer = "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nabc"
        #expect(try Self.parse([answer]) == [.head(200, "transfer-encoding=gzip"), .body("abc")])
        #expect(try Self.parse([answer], closed: true) == [.head(200, "transfer-encoding=gzip"), .body("abc"), .end])
        // A chunked answer cut short has no end: the reader sees the connection close.
        #expect(try Self.parse([Self.chunked + "5\r\nhel"], closed: true) == [Self.chunkedHead, .body("hel")])
    }

    @Test func passedChunksAreTheBytesAsTheyCameUpToTheLastChunk() throws {
        let strict = "5\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
        let answer = Self.chunked + strict + "0\r\n\r\n"
        for reads in Self.splits(answer) {
            #expect(
                try Self.parse(reads, passThrough: true) == [Self.chunkedHead, .chunks(strict), .end],
                "reads \(reads)")
        }
    }

    @Test func passingChunksStartsAtTheNextChunkBoundary() throws {
        var parser = UpstreamResponseParser()
        parser.feed(ByteBuffer(string: Self.chunked + "5\r\nhel"))
        guard case .head = try parser.next(), case .body(let start) = try parser.next() else {
            Issue.record("expected a head and the start of a chunk")
            return
        }
        #expect(String(buffer: start) == "hel")
        parser.passesChunksThrough = true
        parser.feed(ByteBuffer(string: "lo\r\n3\r\nabc\r\n0\r\n\r\n"))
        guard case .body(let rest) = try parser.next(), case .chunks(let chunks) = try parser.next(),
            case .end = try parser.next()
        else {
            Issue.record("expected the rest of the chunk, the chunks after it and the end")
            return
        }
        #expect(String(buffer: rest) == "lo")
        #expect(String(buffer: chunks) == "3\r\nabc\r\n")
        #expect(!parser.passesChunksThrough, "the next answer is read as usual")
    }

    /// Only `1*HEXDIG CRLF data CRLF` goes through unchanged: any other size line (an extension, whitespace, a bare
    /// LF) is unframed and framed anew by the relay, so the client never reads a framing the gateway read otherwise.
    @Test(
        arguments: [
            ("5;name=value\r\nhello\r\n0\r\n\r\n", "hello"),
            ("5 \r\nhello\r\n0\r\n\r\n", "hello"),
            ("5\nhello\r\n0\r\n\r\n", "hello"),
            ("00005\r\nhello\r\n0\r\n\r\n", nil),
        ] as [(String, String?)])
    func onlyStrictChunkFramingPassesThrough(body: String, unframed: String?) throws {
        let pieces = try Self.parse([Self.chunked + body], passThrough: true)
        if let unframed {
            #expect(pieces.dropFirst().first == .body(unframed), "\(pieces)")
        } else {
            #expect(pieces.dropFirst().first == .chunks("00005\r\nhello\r\n"), "\(pieces)")
        }
        #expect(pieces.last == .end)
    }

    @Test func aPassedChunkEndingInABareLFIsMalformed() {
        #expect(throws: UpstreamResponseError.self) {
            _ = try Self.parse([Self.chunked + "5\r\nhello\n0\r\n\r\n"], passThrough: true)
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 20 OK\r\n\r\n", #"invalid status line "HTTP/1.1 20 OK""#),
        ("HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version"),
        ("HTTP/1.1 200 OK\r\nbad header\r\n\r\n", #"header line without a name and colon: "bad header""#),
        ("HTTP/1.1 200 OK\r\nx: 1\r\n folded\r\n\r\n", "obsolete line folding is not accepted"),
        ("HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n", #"invalid header name "bad name""#),
        ("HTTP/1.1 200 OK\r\nx: a\u{1}b\r\n\r\n", #"control character in the value of header "x""#),
        ("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", #"invalid content-length "-1""#),
        ("HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", #"invalid content-length "1, 2""#),
        (
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n",
            "both transfer-encoding and content-length"
        ),
        (chunked + "zz\r\n", #"invalid chunk size line "zz""#),
        (chunked + "1000000000000000\r\n", "is too large"),
        (chunked + "3\r\nabcd\r\n", "chunk data longer than its size line says"),
        (chunked + String(repeating: "1", count: 5000), "chunk size line longer than 4096 bytes"),
        ("HTTP/1.1 200 OK\r\nx: " + String(repeating: "y", count: 300), "response head larger than 256 bytes"),
    ])
    func malformedAnswersFailWithWhatIsWrong(answer: String, message: String) throws {
        for passThrough in [false, true] {
            var parser = UpstreamResponseParser(maxHeadBytes: 256)
            parser.passesChunksThrough = passThrough
            parser.feed(ByteBuffer(string: answer))
            do {
                while try parser.next() != nil {}
                Issue.record("no error for \(answer.debugDescription)")
            } catch {
                #expect(String(describing: error).hasPrefix("malformed answer: "))
                #expect(String(describing: error).contains(message), "\(error)")
            }
            // A failed parser reads nothing more.
            parser.feed(ByteBuffer(string: "HTTP/1.1 204 No Content\r\n\r\n"))
            #expect(try parser.next() == nil)
        }
    }

    @Test func theDecoderHandsOnPartsAndTurnsAMalformedAnswerIntoAnError() throws {
        let decoder = UpstreamResponseDecoder()
        let channel = EmbeddedChannel(handler: decoder)
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"))
        #expect(try channel.readInbound(as: UpstreamResponsePart.self).map(\.isHead) == true)
        guard case .body(let body) = try channel.readInbound(as: UpstreamResponsePart.self) else {
            Issue.record("expected the body")
            return
        }
        #expect(String(buffer: body) == "hi")
        #expect(try channel.readInbound(as: UpstreamResponsePart.self).map(\.isEnd) == true)
        #expect(throws: UpstreamResponseError.malformed(#"invalid status line "nonsense""#)) {
            try channel.writeInbound(ByteBuffer(string: "nonsense\r\n\r\n"))
        }
        _ = try? channel.finish()
    }

    @Test func theDecoderEndsABodyThatRunsToTheClose() throws {
        let channel = EmbeddedChannel(handler: UpstreamResponseDecoder())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8000)).wait()
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\nall"))
        try channel.close().wait()
        var ends = 0
        while let part = try channel.readInbound(as: UpstreamResponsePart.self) { ends += part.isEnd ? 1 : 0 }
        #expect(ends == 1)
    }
}

extension UpstreamResponsePart {
    fileprivate var isHead: Bool {
        if case .head = self { true } else { false }
    }

    fileprivate var isEnd: Bool {
        if case .end = self { true } else { false }
    }
}
