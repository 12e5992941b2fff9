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
}
