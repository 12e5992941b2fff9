import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import StarlingTestSupport
import Synchronization
import Testing

@testable import StarlingGateway

/// One endpoint's scrape loop against a scripted loopback server: what it records in the pool, and how it uses its
/// connection.
@Suite struct EndpointScrapeLoopTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    static let metricsText = """
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{model_name="m"} 3.0
        # TYPE vllm:num_requests_waiting gauge
        vllm:num_requests_waiting{model_name="m"} 2.0

        """
    static let modelsJSON = #"{"object":"list","data":[{"id":"m","object":"model","max_model_len":4096}]}"#

    /// A running scrape loop and what it works on.
    struct Running {
        let server: ScriptedHTTPServer
        let pool: EndpointPool
        let id: String
        let scrape: NIOLoopBound<EndpointScrapeLoop>
        let finished: StreamRelayTests.Counter
        /// Taken before the loop started, so that every models read it made falls after it.
        let started: ContinuousClock.Instant

        var endpoint: PoolState.Endpoint? { pool.read { $0.endpoints[id] } }

        func stop() async throws {
            try await scrape.eventLoop.submit { scrape.value.stop() }.get()
        }
    }

    /// Serves `script`, runs a scrape loop every 20 ms against it for `body`, and stops both.
    func withScrapeLoop(
        requestTimeout: TimeAmount = .seconds(2), maxAnswerBytes: Int = 1 << 20,
        _ script: @escaping ScriptedHTTPServer.Script, _ body: (Running) async throws -> Void
    ) async throws {
        let server = try await ScriptedHTTPServer.start(script)
        var configuration = GatewayConfiguration(pools: [
            .init(
                settings: PoolSettings(name: "pool", profile: RoutingPolicy.roundRobin.profile()),
                endpoints: [EndpointAddress(host: "127.0.0.1", port: server.port)])
        ])
        configuration.scrapeInterval = .milliseconds(20)
        var logger = Logger(label: "test.scrape")
        logger.logLevel = .error
        let gateway = Gateway(configuration: configuration, logger: logger)
        let pool = gateway.pools[0]
        let id = try #require(pool.read { $0.endpoints.keys.first })
        let finished = StreamRelayTests.Counter()
        let loop = self.loop
        let started = ContinuousClock.now
        let scrape = try await loop.submit {
            let scrape = EndpointScrapeLoop(
                gateway: gateway, pool: pool, id: id, loop: loop, requestTimeout: requestTimeout,
                maxAnswerBytes: maxAnswerBytes, onFinish: { finished.add() })
            scrape.start()
            return NIOLoopBound(scrape, eventLoop: loop)
        }.get()
        let running = Running(server: server, pool: pool, id: id, scrape: scrape, finished: finished, started: started)
        do {
            try await body(running)
        } catch {
            try? await running.stop()
            await server.stop()
            throw error
        }
        try await running.stop()
        await server.stop()
    }

    static func answer(_ head: HTTPRequestHead) -> ScriptedHTTPServer.Answer {
        head.uri.hasPrefix("/v1/models") ? .text(modelsJSON) : .text(metricsText)
    }

    @Test(
        arguments: [
            (0, 50, 50), (1, 50, 50), (49, 50, 50), (50, 50, 100), (51, 50, 100), (1_234, 1_000, 2_000), (7, 1, 8),
        ] as [(UInt64, Int64, UInt64)])
    func roundsWaitForTheNextMultipleOfTheInterval(now: UInt64, interval: Int64, next: UInt64) {
        let tick = EndpointScraper.nextTick(after: .uptimeNanoseconds(now), every: .nanoseconds(interval))
        #expect(tick == .uptimeNanoseconds(next))
    }

    @Test func aTickPastTheClocksRangeIsNever() {
        let tick = EndpointScraper.nextTick(after: .uptimeNanoseconds(UInt64.max - 10), every: .milliseconds(50))
        #expect(tick == .distantFuture)
    }

    @Test func scrapesEveryIntervalOverOneKeptConnectionAndReadsTheModels() async throws {
        try await withScrapeLoop({ head, _ in Self.answer(head) }) { running in
            try await eventually("three scrapes") { running.server.requestsRead(EndpointMetrics.scrapePath) >= 3 }
            let endpoint = try #require(running.endpoint)
            #expect(endpoint.metrics?.running == 3 && endpoint.metrics?.waiting == 2)
            #expect(endpoint.models?.map(\.id) == ["m"])
            #expect(endpoint.healthy && endpoint.failures == 0)
            // A loaded machine may take seconds over three 20 ms scrapes: allow a models read per 2 s that passed since
            // the loop started, measured after the reads are counted so that a read made meanwhile is allowed for.
            let models = running.server.requestsRead("/v1/models")
            let allowed = 1 + Int((ContinuousClock.now - running.started + .milliseconds(100)) / .seconds(2))
            #expect(models >= 1 && models <= allowed, "models are read again only every 2 s (\(models) reads)")
            #expect(running.server.connectionsAccepted == 1)
        }
    }

    @Test func aChunkedAnswerIsReadAsItArrives() async throws {
        try await withScrapeLoop({ head, _ in
            head.uri.hasPrefix("/v1/models") ? .text(Self.modelsJSON) : .chunks(count: 50, size: 1_000)
        }) { running in
            try await eventually("two scrapes") { running.server.requestsRead(EndpointMetrics.scrapePath) >= 2 }
            let endpoint = try #require(running.endpoint)
            // 50 KB of text without a metric in it: read to its end, nothing known, no failure.
            #expect(endpoint.scrapedAt != nil && endpoint.metrics?.running == nil && endpoint.failures == 0)
            #expect(running.server.connectionsAccepted == 1)
        }
    }

    @Test func anAnswerPastTheLimitFailsAndClosesTheConnection() async throws {
        try await withScrapeLoop(maxAnswerBytes: 10_000, { _, _ in .chunks(count: 50, size: 1_000) }) { running in
            try await eventually("two failed scrapes") { (running.endpoint?.failures ?? 0) >= 2 }
            #expect(running.endpoint?.scrapedAt == nil)
            #expect(running.server.connectionsAccepted >= 2, "a connection with an answer cut short is not reused")
        }
    }

    @Test func aKeptConnectionTheServerDroppedIsRetriedOnAFreshOne() async throws {
        // Every connection answers once, then drops the next request unanswered.
        try await withScrapeLoop({ head, n in n == 1 ? Self.answer(head) : .close }) { running in
            try await eventually("five scrapes") { running.server.requestsRead(EndpointMetrics.scrapePath) >= 5 }
            let endpoint = try #require(running.endpoint)
            #expect(endpoint.failures == 0 && endpoint.healthy && endpoint.metrics?.running == 3)
            #expect(running.server.connectionsAccepted >= 3)
        }
    }

    @Test func aSilentServerTimesOutAndCountsAsAFailure() async throws {
        try await withScrapeLoop(requestTimeout: .milliseconds(50), { _, _ in .silent }) { running in
            try await eventually("two failed scrapes") { (running.endpoint?.failures ?? 0) >= 2 }
            #expect(running.endpoint?.scrapedAt == nil)
        }
    }

    @Test func anUnreachableEndpointCountsAsAFailure() async throws {
        try await withScrapeLoop(requestTimeout: .milliseconds(100), { _, _ in .silent }) { running in
            await running.server.stop()
            try await eventually("a failed scrape") { (running.endpoint?.failures ?? 0) >= 2 }
        }
    }

    @Test func stoppingEndsTheLoopAndClosesItsConnection() async throws {
        try await withScrapeLoop({ head, _ in Self.answer(head) }) { running in
            try await eventually("a scrape") { running.endpoint?.scrapedAt != nil }
            try await running.stop()
            // At once, or when the exchange it cut short has let go.
            try await eventually("the loop's end") { running.finished.value == 1 }
            let scrapes = running.server.requestsRead(EndpointMetrics.scrapePath)
            // Nothing to await for an absence: five intervals, in which a running loop would have asked again.
            try await Task.sleep(for: .milliseconds(100))
            // (A request sent just before the stop may reach the server after `scrapes` was read.)
            #expect(running.server.requestsRead(EndpointMetrics.scrapePath) <= scrapes + 1)
            try await running.stop()
            #expect(running.finished.value == 1, "it finishes once")
        }
    }

    @Test func theLoopEndsByItselfOnceItsEndpointLeftThePool() async throws {
        try await withScrapeLoop({ head, _ in Self.answer(head) }) { running in
            try await eventually("a scrape") { running.endpoint?.scrapedAt != nil }
            running.pool.update { $0.setEndpoints([:]) }
            try await eventually("the loop's end") { running.finished.value == 1 }
        }
    }
}
