import NIOCore
import NIOEmbedded
import NIOHTTP1
import StarlingServerLimits
import Synchronization
import Testing

@Suite struct ConnectionDeadlinesTests {
    static let limits = ConnectionLimits(
        headerTimeout: .seconds(10), bodyTimeout: .seconds(60), idleTimeout: .seconds(75), maxConnections: 4,
        maxBufferedBodyBytes: 100, listenBacklog: 16)

    typealias Step = (event: ConnectionDeadlines.Event?, at: Int, phase: ConnectionDeadlines.Phase, deadline: Int?)

    /// Each row: events at seconds after the start, the phase after each, and the deadline in seconds (nil: none).
    @Test(
        arguments: [
            ("a first head must come within the header timeout", [(nil, 0, .awaitingFirstHead, 10)] as [Step]),
            (
                "a request and its response, then keep-alive",
                [(.head, 2, .readingBody, 62), (.requestEnd, 3, .responding, nil), (.responseEnd, 500, .idle, 575)]
            ),
            (
                "the next request on a kept-alive connection",
                [
                    (.head, 1, .readingBody, 61), (.requestEnd, 1, .responding, nil), (.responseEnd, 2, .idle, 77),
                    (.head, 70, .readingBody, 130),
                ]
            ),
            (
                "a refusal written before the body ended keeps the body deadline",
                [(.head, 1, .readingBody, 61), (.responseEnd, 2, .readingBody, 61)]
            ),
        ] as [(String, [Step])])
    func deadlinesFollowTheConnectionsPhase(_ name: String, steps: [Step]) {
        let start = ContinuousClock.now
        var deadlines = ConnectionDeadlines(limits: Self.limits, now: start)
        for step in steps {
            if let event = step.event { deadlines.record(event, now: start + .seconds(step.at)) }
            #expect(deadlines.phase == step.phase, "\(name)")
            #expect(deadlines.deadline == step.deadline.map { start + .seconds($0) }, "\(name)")
        }
    }

    @Test(arguments: [
        (ConnectionDeadlines.Phase.awaitingFirstHead, ConnectionDeadlines.Expiry.header),
        (.readingBody, .body), (.idle, .idle),
    ])
    func whatExpiresDependsOnThePhase(phase: ConnectionDeadlines.Phase, expiry: ConnectionDeadlines.Expiry) {
        let start = ContinuousClock.now
        var deadlines = ConnectionDeadlines(limits: Self.limits, now: start)
        switch phase {
        case .readingBody: deadlines.record(.head, now: start)
        case .idle:
            deadlines.record(.head, now: start)
            deadlines.record(.requestEnd, now: start)
            deadlines.record(.responseEnd, now: start)
        default: break
        }
        #expect(deadlines.expiry(at: start + .seconds(9)) == nil)
        #expect(deadlines.expiry(at: start + .seconds(100)) == expiry)
    }

    @Test func aRespondingConnectionNeverExpires() {
        let start = ContinuousClock.now
        var deadlines = ConnectionDeadlines(limits: Self.limits, now: start)
        deadlines.record(.head, now: start)
        deadlines.record(.requestEnd, now: start)
        #expect(deadlines.expiry(at: start + .seconds(100_000)) == nil)
    }

    @Test func budgetsAndCountersStopAtTheirLimit() {
        let budget = ByteBudget(limit: 100)
        #expect(budget.reserve(60))
        #expect(!budget.reserve(41))
        #expect(budget.reserve(40))
        budget.release(100)
        #expect(budget.inUse == 0)
        let counter = ConnectionCounter(limit: 2)
        #expect(counter.admit() && counter.admit())
        #expect(!counter.admit())
        counter.leave()
        #expect(counter.admit())
        #expect(counter.count == 2)
    }

    @Test func limitsFitTheOpenFileBudgetAndValidate() {
        #expect(ConnectionLimits.gateway.fitting(openFiles: 20_000).maxConnections == 9_872)
        #expect(ConnectionLimits.gateway.fitting(openFiles: 1_048_576).maxConnections == 10_000)
        var bad = ConnectionLimits.gateway
        bad.headerTimeout = .zero
        bad.maxConnections = 0
        #expect(
            bad.validate(prefix: "limits.") == [
                "limits.headerTimeout: must be positive, got 0.0 seconds",
                "limits.maxConnections: must be at least 1, got 0",
            ])
    }
}

@Suite struct ConnectionLimitHandlerTests {
    final class Seen: Sendable {
        let events = Mutex<[ConnectionLimitEvent]>([])
    }

    func channel(
        limits: ConnectionLimits, counter: ConnectionCounter, seen: Seen
    ) throws -> (EmbeddedChannel, ConnectionLimitHandler<NIOHTTP1Flavor>) {
        let handler = ConnectionLimitHandler<NIOHTTP1Flavor>(
            limits: limits, counter: counter, refusal: ("application/json", #"{"error":"busy"}"#),
            onLimit: { event in seen.events.withLock { $0.append(event) } })
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, handler)
    }

    static var short: ConnectionLimits {
        ConnectionLimits(
            headerTimeout: .milliseconds(50), bodyTimeout: .milliseconds(50), idleTimeout: .milliseconds(50),
            maxConnections: 1, maxBufferedBodyBytes: 100, listenBacklog: 16)
    }

    func waitClosed(_ channel: EmbeddedChannel) async throws {
        for _ in 0..<200 where channel.isActive {
            try await Task.sleep(for: .milliseconds(10))
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(10))
        }
    }

    @Test func aConnectionThatSendsNoHeadIsClosedAfterTheHeaderTimeout() async throws {
        let seen = Seen()
        let counter = ConnectionCounter(limit: 1)
        let (channel, _) = try channel(limits: Self.short, counter: counter, seen: seen)
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(40))
        #expect(channel.isActive)
        try await waitClosed(channel)
        #expect(!channel.isActive)
        #expect(seen.events.withLock { $0 } == [.headerTimeout])
        #expect(counter.count == 0)
    }

    @Test func aStalledBodyIsClosedAndAResponseStartsTheIdleClock() async throws {
        let seen = Seen()
        let (channel, handler) = try channel(limits: Self.short, counter: ConnectionCounter(limit: 1), seen: seen)
        try channel.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        // Responding: no deadline however long it takes.
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive)
        handler.responseEnded()
        try await waitClosed(channel)
        #expect(seen.events.withLock { $0 } == [.idleTimeout])

        let stalled = Seen()
        let (second, _) = try self.channel(limits: Self.short, counter: ConnectionCounter(limit: 1), seen: stalled)
        try second.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")))
        try await waitClosed(second)
        #expect(stalled.events.withLock { $0 } == [.bodyTimeout])
    }

    @Test func aConnectionOverTheCapGetsA503ToItsFirstRequest() throws {
        let seen = Seen()
        let counter = ConnectionCounter(limit: 1)
        let (first, _) = try channel(limits: Self.short, counter: counter, seen: seen)
        let (extra, _) = try channel(limits: Self.short, counter: counter, seen: seen)
        try extra.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        #expect(try extra.readInbound(as: HTTPServerRequestPart.self) == nil)
        guard case .head(let head)? = try extra.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no response head")
            return
        }
        #expect(head.status.code == 503)
        #expect(head.headers["retry-after"] == ["1"])
        #expect(seen.events.withLock { $0 } == [.tooManyConnections])
        #expect(first.isActive)
        _ = try first.finish()
        #expect(counter.count == 0)
    }
}
