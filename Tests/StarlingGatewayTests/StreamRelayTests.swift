import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing

@testable import StarlingGateway

/// A relay between two embedded channels on one embedded loop (as the upstream and client connections of a
/// request share a loop): no sockets, writability and time set by hand.
@Suite struct StreamRelayTests {
    final class Fixture {
        let loop = EmbeddedEventLoop()
        let upstream: EmbeddedChannel
        let front: EmbeddedChannel
        let upstreamParts = PartBufferHandler<UpstreamResponsePart>()
        let frontParts = PartBufferHandler<HTTPServerRequestPart>()
        let counter = PartBufferHandlerTests.ReadCounter()
        /// Between `counter` and `upstreamParts` when the fixture decodes bytes; parts are written in directly
        /// otherwise.
        let decoder = UpstreamResponseDecoder()
        let firstTokens = Counter()
        /// How the relay ended; nil while it runs.
        var settled: StreamRelay.Outcome?

        init(decoding: Bool = false) throws {
            upstream = EmbeddedChannel(loop: loop)
            front = EmbeddedChannel(loop: loop)
            try upstream.pipeline.syncOperations.addHandler(counter)
            if decoding {
                try upstream.pipeline.syncOperations.addHandler(decoder)
                decoder.deliver(to: upstreamParts)
            }
            try upstream.pipeline.syncOperations.addHandler(upstreamParts)
            try front.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
            try front.pipeline.syncOperations.addHandler(frontParts)
            let address = try SocketAddress(ipAddress: "127.0.0.1", port: 8000)
            try upstream.connect(to: address).wait()
            try front.connect(to: address).wait()
        }

        /// Writes the response head (HTTP/1.1, so the body is chunked, or HTTP/1.0) and starts the relay.
        func start(timeout: TimeAmount = .seconds(60), version: HTTPVersion = .http1_1) throws {
            try front.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: .ok)))
            _ = try wire()
            let promise = loop.makePromise(of: StreamRelay.Outcome.self)
            let relay = StreamRelay(
                front: front, frontParts: frontParts, chunked: version == .http1_1, upstream: upstreamParts,
                start: .now,
                onFirstToken: { [firstTokens] in firstTokens.add() }, outcome: promise)
            promise.futureResult.assumeIsolated().whenSuccess { self.settled = $0 }
            upstreamParts.relay(to: relay, timeout: timeout)
        }

        func token(_ text: String) -> String { #"data: {"choices":[{"text":"\#(text)"}]}"# + "\n\n" }

        /// `text` as one chunk of chunked transfer coding.
        func frame(_ text: String) -> String { String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n" }

        func arrive(_ text: String) throws {
            try upstream.writeInbound(UpstreamResponsePart.body(ByteBuffer(string: text)))
        }

        /// The bytes the client was sent (flushed) since the last call.
        func wire() throws -> String {
            var bytes = ""
            while let data = try front.readOutbound(as: IOData.self) {
                guard case .byteBuffer(let buffer) = data else { continue }
                bytes += String(buffer: buffer)
            }
            return bytes
        }

        /// The body chunks the client was sent (flushed) since the last call, unframed; records an issue when the
        /// framing is not chunked transfer coding.
        func sent() throws -> [String] {
            var rest = Substring(try wire())
            var chunks: [String] = []
            while !rest.isEmpty {
                guard let end = rest.firstRange(of: "\r\n"), let size = Int(rest[..<end.lowerBound], radix: 16),
                    rest[end.upperBound...].utf8.count >= size + 2
                else {
                    Issue.record("not a chunk: \(rest.debugDescription)")
                    return chunks
                }
                let data = rest[end.upperBound...].utf8.prefix(size)
                chunks.append(String(Substring(data)))
                rest = Substring(rest[end.upperBound...].utf8.dropFirst(size + 2))
                if size == 0 { break }
            }
            return chunks
        }
    }

    final class Counter: Sendable {
        private let count = Atomic(0)
        func add() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    @Test func chunksGoToTheClientAsTheyArriveWithOneFlushPerRead() throws {
        let fixture = try Fixture()
        try fixture.start()
        try fixture.arrive(fixture.token("a"))
        #expect(try fixture.sent() == [fixture.token("a")])
        // Two chunks from one read of the socket: nothing is flushed until the read is complete.
        fixture.upstream.pipeline.fireChannelRead(UpstreamResponsePart.body(ByteBuffer(string: fixture.token("b"))))
        fixture.upstream.pipeline.fireChannelRead(UpstreamResponsePart.body(ByteBuffer(string: fixture.token("c"))))
        #expect(try fixture.sent() == [])
        fixture.upstream.pipeline.fireChannelReadComplete()
        var buffers: [ByteBuffer] = []
        while case .byteBuffer(let buffer) = try fixture.front.readOutbound(as: IOData.self) { buffers.append(buffer) }
        #expect(buffers.count == 1, "the chunks of one read go out as one buffer")
        #expect(
            buffers.map { String(buffer: $0) } == [
                fixture.frame(fixture.token("b")) + fixture.frame(fixture.token("c"))
            ])
        #expect(fixture.settled == nil)
    }

    @Test func chunksPassedThroughGoOutAsTheyCameAfterTheReadsOtherBytes() throws {
        let fixture = try Fixture()
        try fixture.start()
        let passed = fixture.frame(fixture.token("b")) + fixture.frame(fixture.token("c"))
        fixture.upstream.pipeline.fireChannelRead(UpstreamResponsePart.body(ByteBuffer(string: fixture.token("a"))))
        fixture.upstream.pipeline.fireChannelRead(UpstreamResponsePart.chunks(ByteBuffer(string: passed)))
        fixture.upstream.pipeline.fireChannelReadComplete()
        var buffers: [ByteBuffer] = []
        while case .byteBuffer(let buffer) = try fixture.front.readOutbound(as: IOData.self) { buffers.append(buffer) }
        #expect(buffers.map { String(buffer: $0) } == [fixture.frame(fixture.token("a")) + passed])
        try fixture.upstream.writeInbound(UpstreamResponsePart.end)
        guard case .ended(let tokens) = fixture.settled else {
            Issue.record("expected the relay to end cleanly, got \(String(describing: fixture.settled))")
            return
        }
        #expect(tokens.firstToken != nil && tokens.gaps.count == 2, "two tokens came with the passed chunks")
    }

    @Test func aChunkedAnswerReachesAChunkedClientByteForByte() throws {
        let fixture = try Fixture(decoding: true)
        try fixture.upstream.writeInbound(
            ByteBuffer(
                string: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"))
        guard case .head = fixture.upstreamParts.takeBuffered() else {
            Issue.record("expected the response head")
            return
        }
        fixture.decoder.passChunksThrough()
        try fixture.start()
        let strict = ["a", "b", "c"].map { fixture.frame(fixture.token($0)) }.joined()
        let body = strict + "1;x=y\r\n\n\r\n"
        // Cut anywhere, size lines included: what the client gets is the same bytes, up to a chunk with an extension,
        // which (and all after it) is framed anew in the one strict form.
        var rest = Substring(body)
        while !rest.isEmpty {
            try fixture.upstream.writeInbound(ByteBuffer(string: String(rest.prefix(7))))
            rest = rest.dropFirst(7)
        }
        try fixture.upstream.writeInbound(ByteBuffer(string: "0\r\n\r\n"))
        #expect(try fixture.wire() == strict + "1\r\n\n\r\n")
        guard case .ended(let tokens) = fixture.settled else {
            Issue.record("expected the relay to end cleanly, got \(String(describing: fixture.settled))")
            return
        }
        #expect(tokens.firstToken != nil && tokens.gaps.count == 2)
        #expect(fixture.upstreamParts.isIdle, "the connection can carry the next request")
    }

    @Test func chunksAreFramedAsTheHTTPEncoderFramesThem() throws {
        let fixture = try Fixture()
        try fixture.start()
        let text = String(repeating: "x", count: 300)
        try fixture.arrive(text)
        let reference = EmbeddedChannel(handler: HTTPResponseEncoder())
        try reference.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        _ = try reference.readOutbound(as: IOData.self)
        try reference.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text))))
        var expected = ""
        while case .byteBuffer(let buffer) = try reference.readOutbound(as: IOData.self) {
            expected += String(buffer: buffer)
        }
        #expect(expected.hasPrefix("12c\r\n"))
        #expect(try fixture.wire() == expected)
        // The end still goes through the encoder, which closes the chunked body.
        try fixture.upstream.writeInbound(UpstreamResponsePart.end)
        try fixture.front.writeOutbound(HTTPServerResponsePart.end(nil))
        #expect(try fixture.wire() == "0\r\n\r\n")
    }

    @Test func anHTTP10ClientGetsTheBytesUnframed() throws {
        let fixture = try Fixture()
        try fixture.start(version: .http1_0)
        try fixture.arrive(fixture.token("a"))
        #expect(try fixture.wire() == fixture.token("a"))
    }

    @Test func theEndOfTheAnswerEndsTheRelayWithItsTokensTimed() throws {
        let fixture = try Fixture()
        try fixture.start()
        try fixture.arrive(": keep-alive\n\n")
        for text in ["a", "b", "c"] { try fixture.arrive(fixture.token(text)) }
        try fixture.arrive("data: [DONE]\n\n")
        try fixture.upstream.writeInbound(UpstreamResponsePart.end)
        guard case .ended(let tokens) = fixture.settled else {
            Issue.record("expected the relay to end cleanly, got \(String(describing: fixture.settled))")
            return
        }
        #expect(tokens.firstToken != nil && tokens.gaps.count == 2)
        #expect(fixture.firstTokens.value == 1)
        #expect(try fixture.sent().count == 5)
        #expect(fixture.upstreamParts.isIdle, "the connection can carry the next request")
    }

    @Test func aClientThatReadsSlowerThanTheServerWritesPausesTheServer() throws {
        let fixture = try Fixture()
        try fixture.start()
        fixture.front.isWritable = false
        // As a socket channel does when its outbound buffer passes the high watermark.
        fixture.front.pipeline.fireChannelWritabilityChanged()
        try fixture.arrive(fixture.token("a"))
        #expect(try fixture.sent() == [fixture.token("a")], "what was written is flushed before the pause")
        let highWatermark = PartBufferHandler<UpstreamResponsePart>.highWatermark
        for i in 0..<highWatermark { try fixture.arrive(fixture.token("\(i)")) }
        #expect(try fixture.sent() == [])
        let reads = fixture.counter.reads
        fixture.upstream.read()
        #expect(fixture.counter.reads == reads, "the server's socket is not read while the client is behind")
        fixture.front.isWritable = true
        fixture.front.pipeline.fireChannelWritabilityChanged()
        #expect(try fixture.sent().count == highWatermark)
        #expect(fixture.counter.reads == reads + 1)
        #expect(fixture.settled == nil)
    }

    @Test func aClientThatWentAwayEndsTheRelay() throws {
        let fixture = try Fixture()
        try fixture.start()
        try fixture.arrive(fixture.token("a"))
        _ = try fixture.front.close().wait()
        try fixture.arrive(fixture.token("b"))
        guard case .clientGone = fixture.settled else {
            Issue.record("expected clientGone, got \(String(describing: fixture.settled))")
            return
        }
    }

    @Test func aClientThatGoesAwayWhileTheRelayIsPausedEndsIt() throws {
        let fixture = try Fixture()
        try fixture.start()
        fixture.front.isWritable = false
        // As a socket channel does when its outbound buffer passes the high watermark.
        fixture.front.pipeline.fireChannelWritabilityChanged()
        try fixture.arrive(fixture.token("a"))
        #expect(fixture.settled == nil)
        _ = try fixture.front.close().wait()
        guard case .clientGone = fixture.settled else {
            Issue.record("expected clientGone, got \(String(describing: fixture.settled))")
            return
        }
    }

    @Test func aServerThatBreaksOrStallsMidStreamEndsTheRelayWithWhy() throws {
        let broken = try Fixture()
        try broken.start()
        try broken.arrive(broken.token("a"))
        _ = try broken.upstream.close().wait()
        guard case .upstreamFailed(.closed, let tokens) = broken.settled else {
            Issue.record("expected upstreamFailed(.closed), got \(String(describing: broken.settled))")
            return
        }
        #expect(tokens.firstToken != nil)

        let stalled = try Fixture()
        try stalled.start(timeout: .seconds(5))
        try stalled.arrive(stalled.token("a"))
        stalled.loop.advanceTime(by: .seconds(6))
        guard case .upstreamFailed(.timedOut, _) = stalled.settled else {
            Issue.record("expected upstreamFailed(.timedOut), got \(String(describing: stalled.settled))")
            return
        }
    }
}
