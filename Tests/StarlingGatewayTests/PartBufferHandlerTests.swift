import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import StarlingGateway

/// The handler on an embedded channel: no sockets, time moved by hand.
@Suite struct PartBufferHandlerTests {
    /// Counts the reads the handler lets through to the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Any
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    struct Fixture {
        let channel = EmbeddedChannel()
        let handler = PartBufferHandler<HTTPClientResponsePart>()
        let counter = ReadCounter()

        init() throws {
            try channel.pipeline.syncOperations.addHandler(counter)
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8000)).wait()
        }

        func arrive(_ count: Int) throws {
            for i in 0..<count {
                try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "chunk \(i)")))
            }
        }

        func send(_ text: String) throws {
            try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: text)))
        }

        func take(deadline: NIODeadline = .now() + .seconds(60)) -> EventLoopFuture<HTTPClientResponsePart> {
            let promise = channel.eventLoop.makePromise(of: HTTPClientResponsePart.self)
            handler.take(promise, deadline: deadline)
            return promise.futureResult
        }
    }

    static func text(_ part: HTTPClientResponsePart?) -> String? {
        guard case .body(let buffer) = part else { return nil }
        return String(buffer: buffer)
    }

    @Test func partsComeOutInTheOrderTheyArrived() throws {
        let fixture = try Fixture()
        try fixture.arrive(3)
        #expect(Self.text(fixture.handler.takeBuffered()) == "chunk 0")
        #expect(Self.text(try fixture.take().wait()) == "chunk 1")
        #expect(Self.text(fixture.handler.takeBuffered()) == "chunk 2")
        #expect(fixture.handler.takeBuffered() == nil)
        #expect(fixture.handler.isIdle)
    }

    @Test func aWaitingTakeGetsThePartThatArrivesNext() throws {
        let fixture = try Fixture()
        let future = fixture.take()
        #expect(!fixture.handler.isIdle)
        try fixture.arrive(1)
        #expect(Self.text(try future.wait()) == "chunk 0")
        #expect(fixture.handler.isIdle)
    }

    @Test func readsStopWhilePartsPileUpAndResumeOnceTheyAreTaken() throws {
        let fixture = try Fixture()
        try fixture.arrive(PartBufferHandler<HTTPClientResponsePart>.highWatermark)
        fixture.channel.read()
        #expect(fixture.counter.reads == 0, "a full buffer holds the read back")
        for _ in 0..<(PartBufferHandler<HTTPClientResponsePart>.highWatermark / 2) {
            _ = fixture.handler.takeBuffered()
        }
        #expect(fixture.counter.reads == 0, "still at the low watermark")
        _ = fixture.handler.takeBuffered()
        #expect(fixture.counter.reads == 1, "below the low watermark the held read goes out")
        fixture.channel.read()
        #expect(fixture.counter.reads == 2)
    }

    @Test func aCloseComesAfterThePartsBeforeIt() throws {
        let fixture = try Fixture()
        try fixture.arrive(2)
        try fixture.channel.writeInbound(HTTPClientResponsePart.end(nil))
        _ = try fixture.channel.close().wait()
        #expect(Self.text(try fixture.take().wait()) == "chunk 0")
        #expect(Self.text(try fixture.take().wait()) == "chunk 1")
        guard case .end = try fixture.take().wait() else {
            Issue.record("expected the end of the answer")
            return
        }
        #expect(throws: ProxyConnectionError.closed) { try fixture.take().wait() }
        #expect(!fixture.handler.isIdle)
    }

    @Test func nothingByTheDeadlineFailsTheTakeAndClosesTheConnection() throws {
        let fixture = try Fixture()
        let loop = fixture.channel.embeddedEventLoop
        let future = fixture.take(deadline: loop.now + .seconds(5))
        loop.advanceTime(by: .seconds(4))
        #expect(fixture.channel.isActive)
        loop.advanceTime(by: .seconds(2))
        #expect(throws: ProxyConnectionError.timedOut) { try future.wait() }
        #expect(!fixture.channel.isActive)
    }

    @Test func aPartInTimeCancelsTheDeadline() throws {
        let fixture = try Fixture()
        let loop = fixture.channel.embeddedEventLoop
        let future = fixture.take(deadline: loop.now + .seconds(5))
        try fixture.arrive(1)
        loop.advanceTime(by: .seconds(10))
        #expect(Self.text(try future.wait()) == "chunk 0")
        #expect(fixture.channel.isActive)
    }

    @Test func eachTakeKeepsItsOwnDeadlineWhileOneTimerServesThemAll() throws {
        let fixture = try Fixture()
        let loop = fixture.channel.embeddedEventLoop
        let first = fixture.take(deadline: loop.now + .seconds(5))
        loop.advanceTime(by: .seconds(1))
        try fixture.arrive(1)
        #expect(Self.text(try first.wait()) == "chunk 0")
        // Due at 6 s; the timer set for the first take fires at 5 s and moves on.
        let second = fixture.take(deadline: loop.now + .seconds(5))
        loop.advanceTime(by: .milliseconds(4500))
        #expect(fixture.channel.isActive, "5.5 s: the second take's deadline is 6 s")
        loop.advanceTime(by: .seconds(1))
        #expect(throws: ProxyConnectionError.timedOut) { try second.wait() }
        #expect(!fixture.channel.isActive)
    }

    @Test func anEarlierDeadlineThanTheTimersIsKept() throws {
        let fixture = try Fixture()
        let loop = fixture.channel.embeddedEventLoop
        let first = fixture.take(deadline: loop.now + .seconds(60))
        try fixture.arrive(1)
        #expect(Self.text(try first.wait()) == "chunk 0")
        let second = fixture.take(deadline: loop.now + .seconds(2))
        loop.advanceTime(by: .seconds(3))
        #expect(throws: ProxyConnectionError.timedOut) { try second.wait() }
    }

    @Test func aTimerWithNobodyWaitingLeavesTheConnectionOpen() throws {
        let fixture = try Fixture()
        let loop = fixture.channel.embeddedEventLoop
        let first = fixture.take(deadline: loop.now + .seconds(5))
        try fixture.arrive(1)
        #expect(Self.text(try first.wait()) == "chunk 0")
        // Idle (between exchanges, or a take without deadline): the old timer firing changes nothing.
        let waiting = fixture.take(deadline: .distantFuture)
        loop.advanceTime(by: .seconds(60))
        #expect(fixture.channel.isActive)
        try fixture.arrive(1)
        #expect(Self.text(try waiting.wait()) == "chunk 0")
    }

    @Test func abandoningFailsTheWaiterAndClosesTheConnection() throws {
        let fixture = try Fixture()
        let future = fixture.take()
        #expect(fixture.channel.isActive)
        fixture.handler.abandon()
        #expect(throws: ProxyConnectionError.cancelled) { try future.wait() }
        #expect(!fixture.channel.isActive)
    }

    /// Records what a relay hands it; pauses on a part whose text is "pause", is done at the end.
    final class RecordingSink: PartSink {
        var received: [String] = []
        var readCompletes = 0
        var failure: ProxyConnectionError?

        func receive(_ part: HTTPClientResponsePart) -> PartSinkDemand {
            switch part {
            case .head: received.append("head")
            case .body(let buffer): received.append(String(buffer: buffer))
            case .end:
                received.append("end")
                return .done
            }
            return received.last == "pause" ? .pause : .more
        }

        func readComplete() { readCompletes += 1 }
        func failed(_ error: ProxyConnectionError) { failure = error }
    }

    @Test func aRelayGetsTheBufferedPartsFirstThenEachAsItArrives() throws {
        let fixture = try Fixture()
        try fixture.arrive(2)
        let sink = RecordingSink()
        fixture.handler.relay(to: sink, timeout: .seconds(60))
        #expect(sink.received == ["chunk 0", "chunk 1"])
        #expect(sink.readCompletes == 1, "the buffered parts are flushed together")
        try fixture.send("later")
        #expect(sink.received == ["chunk 0", "chunk 1", "later"])
        #expect(sink.readCompletes == 2)
        #expect(!fixture.handler.isIdle)
    }

    @Test func aPausedRelayBuffersHoldsReadsOnceFullAndGoesOnWhenResumed() throws {
        let fixture = try Fixture()
        let sink = RecordingSink()
        fixture.handler.relay(to: sink, timeout: .seconds(60))
        try fixture.send("pause")
        try fixture.arrive(PartBufferHandler<HTTPClientResponsePart>.highWatermark)
        #expect(sink.received == ["pause"])
        let reads = fixture.counter.reads
        fixture.channel.read()
        #expect(fixture.counter.reads == reads, "a paused relay with a full buffer holds the read back")
        fixture.handler.resumeRelay()
        #expect(sink.received.count == 1 + PartBufferHandler<HTTPClientResponsePart>.highWatermark)
        #expect(fixture.counter.reads == reads + 1, "the held read goes out")
    }

    @Test func aRelayEndsWhenTheSinkIsDoneAndLaterPartsWaitForATake() throws {
        let fixture = try Fixture()
        let sink = RecordingSink()
        fixture.handler.relay(to: sink, timeout: .seconds(60))
        try fixture.send("last")
        try fixture.channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(sink.received == ["last", "end"])
        #expect(fixture.handler.isIdle)
        try fixture.send("next answer")
        #expect(Self.text(fixture.handler.takeBuffered()) == "next answer")
        #expect(sink.received.count == 2)
    }

    @Test func eachPartOfARelayMustComeWithinItsTimeout() throws {
        let fixture = try Fixture()
        let loop = fixture.channel.embeddedEventLoop
        let sink = RecordingSink()
        fixture.handler.relay(to: sink, timeout: .seconds(5))
        loop.advanceTime(by: .seconds(4))
        try fixture.send("in time")
        loop.advanceTime(by: .seconds(4))
        #expect(fixture.channel.isActive, "8 s after the start, 4 s after the last part")
        #expect(sink.failure == nil)
        loop.advanceTime(by: .seconds(2))
        #expect(sink.failure == .timedOut)
        #expect(!fixture.channel.isActive)
    }

    @Test func aPausedRelayHasNoDeadline() throws {
        let fixture = try Fixture()
        let loop = fixture.channel.embeddedEventLoop
        let sink = RecordingSink()
        fixture.handler.relay(to: sink, timeout: .seconds(5))
        try fixture.send("pause")
        loop.advanceTime(by: .seconds(60))
        #expect(fixture.channel.isActive && sink.failure == nil, "the wait is the client's")
        fixture.handler.resumeRelay()
        loop.advanceTime(by: .seconds(6))
        #expect(sink.failure == .timedOut, "resumed, the deadline is back")
    }

    @Test func aCloseReachesTheRelayAfterThePartsBeforeIt() throws {
        let fixture = try Fixture()
        try fixture.arrive(2)
        _ = try fixture.channel.close().wait()
        let sink = RecordingSink()
        fixture.handler.relay(to: sink, timeout: .seconds(60))
        #expect(sink.received == ["chunk 0", "chunk 1"])
        #expect(sink.failure == .closed)
    }

    @Test func abandoningARelayFailsItsSinkAndClosesTheConnection() throws {
        let fixture = try Fixture()
        let sink = RecordingSink()
        fixture.handler.relay(to: sink, timeout: .seconds(60))
        fixture.handler.abandon()
        #expect(sink.failure == .cancelled)
        #expect(!fixture.channel.isActive)
    }
}
