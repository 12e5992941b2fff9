import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import StarlingServerLimits
import StarlingTestSupport
import Testing

@testable import StarlingGateway

/// The gateway (in process) in front of real `starling model-server` processes.
@Suite(.serialized) struct GatewayEndToEndTests {
    /// A running gateway and a client for it.
    struct Harness {
        let gateway: Gateway
        let port: Int
        let client: HTTPClient

        var url: String { "http://127.0.0.1:\(port)" }

        struct Reply {
            var status: Int
            var headers: [String: String]
            var body: String
            var endpoint: String? { headers["x-starling-endpoint"] }
        }

        func post(
            _ json: String, path: String = "/v1/completions", headers: [String: String] = [:], to base: String? = nil
        ) async throws -> Reply {
            var request = HTTPClientRequest(url: (base ?? url) + path)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(string: json))
            let response = try await client.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 16 << 20)
            return Reply(
                status: Int(response.status.code),
                headers: Dictionary(
                    response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }),
                body: String(buffer: body))
        }

        /// Starts a request and returns once its response head is in.
        func open(
            _ json: String, to base: String? = nil, path: String = "/v1/completions"
        ) async throws -> HTTPClientResponse {
            var request = HTTPClientRequest(url: (base ?? url) + path)
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: json))
            return try await client.execute(request, timeout: .seconds(60))
        }

        /// Keeps a streaming request open (reading its body) until the task is cancelled, which closes it.
        func hold(_ json: String, to base: String? = nil) -> Task<Void, any Error> {
            Task {
                let response = try await open(json, to: base)
                for try await _ in response.body {}
            }
        }

        func get(_ path: String, from base: String? = nil) async throws -> String {
            let response = try await client.execute(HTTPClientRequest(url: (base ?? url) + path), timeout: .seconds(10))
            return String(buffer: try await response.body.collect(upTo: 16 << 20))
        }

        /// A model server's `vllm:num_requests_running`, read directly.
        func running(on server: ModelServerProcess) async throws -> Double {
            let metrics = EndpointMetrics(prometheusText: Array(try await get("/metrics", from: server.baseURL).utf8))
            return metrics.running ?? -1
        }

        /// Waits until the gateway has scraped every endpoint and read its models.
        func waitScraped(_ condition: @escaping @Sendable (PoolState.Endpoint) -> Bool = { _ in true }) async throws {
            let gateway = self.gateway
            try await waitUntil("the gateway to scrape its endpoints", timeout: .seconds(20)) {
                gateway.pools.allSatisfy { pool in
                    pool.read { state in
                        !state.endpoints.isEmpty
                            && state.endpoints.values.allSatisfy {
                                $0.metrics != nil && $0.models != nil && condition($0)
                            }
                    }
                }
            }
        }
    }

    static func withGateway(
        _ servers: [ModelServerProcess], policy: RoutingPolicy = .default,
        configure: (inout GatewayConfiguration) -> Void = { _ in }, _ body: (Harness) async throws -> Void
    ) async throws {
        var settings = PoolSettings(name: "pool", profile: policy.profile())
        settings.seed = 7
        // Two busy cores can delay a scrape past the default 200 ms; staleness has its own unit test, and here a
        // stale scrape would turn the load the tests set up into "unknown".
        settings.staleAfter = .seconds(30)
        var configuration = GatewayConfiguration(pools: [
            .init(settings: settings, endpoints: servers.map { EndpointAddress(host: "127.0.0.1", port: $0.port) })
        ])
        configuration.port = 0
        configure(&configuration)
        var logger = Logger(label: "test.gateway")
        logger.logLevel = .warning
        let gateway = Gateway(configuration: configuration, logger: logger)
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        do {
            try await gateway.withRunning { port in
                try await body(Harness(gateway: gateway, port: port, client: client))
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    static func prompt(_ words: Int, seed: Int) -> String {
        let vocabulary = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
        return (0..<words).map { vocabulary[($0 * 7 + seed * 13 + $0 / 3) % vocabulary.count] }.joined(separator: " ")
    }

    @Test func prefixAffinitySendsARepeatedPrefixToTheSameReplica() async throws {
        let servers = try await ModelServerProcess.start(3)
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { harness in
            try await harness.waitScraped()
            let long = #"{"model":"starling/tiny","prompt":"busy","max_tokens":3000,"ignore_eos":true,"stream":true}"#
            var homes: [String] = []
            func ask(_ group: Int, _ round: Int) async throws -> String {
                let prompt = Self.prompt(120, seed: group) + " question \(round)"
                let reply = try await harness.post(#"{"model":"starling/tiny","prompt":"\#(prompt)","max_tokens":2}"#)
                #expect(reply.status == 200)
                return try #require(reply.endpoint)
            }
            // Each group's first request: the replicas already chosen are kept busy, so load sends it to a new
            // one (and the groups end up on three different replicas).
            for group in 0..<3 {
                let busy = homes.compactMap { home in servers.first { $0.id == home } }
                let holds = busy.map { harness.hold(long, to: $0.baseURL) }
                for server in busy {
                    try await waitUntil("a request running on \(server.id)") {
                        try await harness.running(on: server) >= 1
                    }
                }
                // Only a scrape taken after the holds run counts.
                let since = ContinuousClock.now
                let ids = Set(homes)
                try await harness.waitScraped {
                    ($0.scrapedAt ?? since) > since && (!ids.contains($0.id) || ($0.metrics?.running ?? 0) >= 1)
                }
                homes.append(try await ask(group, 0))
                holds.forEach { $0.cancel() }
                for hold in holds { _ = await hold.result }
                // The next group's check must see its own holds, not these on their way out.
                for server in servers {
                    try await waitUntil("\(server.id) to be idle") { try await harness.running(on: server) == 0 }
                }
            }
            #expect(Set(homes).count == 3)
            // Later requests follow their prefix home, whatever the tie-breaks.
            for round in 1..<4 {
                for group in 0..<3 {
                    #expect(try await ask(group, round) == homes[group], "group \(group) round \(round)")
                }
            }
        }
    }

    @Test func anAdapterRequestPrefersTheReplicaRunningThatAdapter() async throws {
        let servers = try await ModelServerProcess.start(
            2, ["--lora-modules", "sql=/a/sql", "chat=/a/chat", "--max-loras", "1"])
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { harness in
            // Pin the adapters directly: sql runs on the first replica, chat fills the second's only slot.
            let long = #"{"model":"MODEL","prompt":"hold on","max_tokens":3000,"ignore_eos":true,"stream":true}"#
            let sql = harness.hold(long.replacingOccurrences(of: "MODEL", with: "sql"), to: servers[0].baseURL)
            let chat = harness.hold(long.replacingOccurrences(of: "MODEL", with: "chat"), to: servers[1].baseURL)
            defer {
                sql.cancel()
                chat.cancel()
            }
            try await harness.waitScraped { endpoint in
                endpoint.metrics?.runningAdapters?.isEmpty == false && endpoint.models?.count == 3
            }
            for _ in 0..<4 {
                let reply = try await harness.post(#"{"model":"sql","prompt":"select","max_tokens":2}"#)
                #expect(reply.status == 200)
                #expect(reply.endpoint == servers[0].id)
            }
        }
    }

    @Test func aSheddableRequestGets429UnderSaturationWhileACriticalOneIsServed() async throws {
        let servers = try await ModelServerProcess.start(1, ["--max-num-seqs", "1"])
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { configuration in
            configuration.pools[0].settings.saturation.queueDepthThreshold = 1
            configuration.objectives.objectives = ["batch": .sheddable, "premium": .critical]
        } _: { harness in
            try await harness.waitScraped()
            // Fill the replica from outside the gateway: one running, one waiting.
            let long = #"{"model":"starling/tiny","prompt":"busy","max_tokens":3000,"ignore_eos":true,"stream":true}"#
            let fillers = [harness.hold(long, to: servers[0].baseURL), harness.hold(long, to: servers[0].baseURL)]
            defer { fillers.forEach { $0.cancel() } }
            // Saturated once three scrapes in a row show the queue.
            let pool = harness.gateway.pools[0]
            try await waitUntil("the pool to be saturated", timeout: .seconds(20)) {
                pool.read { $0.isSaturated(model: "starling/tiny", now: .now) }
            }
            let small = #"{"model":"starling/tiny","prompt":"hi","max_tokens":2}"#
            let shed = try await harness.post(small, headers: ["x-gateway-inference-objective": "batch"])
            #expect(shed.status == 429)
            #expect(shed.headers["retry-after"] == "1")
            #expect(shed.body.contains("RateLimitError") && shed.body.contains("sheddable"))
            // The critical request waits at the gateway until the replica has room again.
            async let critical = harness.post(small, headers: ["x-gateway-inference-objective": "premium"])
            let gateway = harness.gateway
            try await waitUntil("the critical request to queue") { gateway.pools[0].read { $0.hasWaiting } }
            // Free the replica: closing the filler streams cancels them there.
            fillers.forEach { $0.cancel() }
            let served = try await critical
            #expect(served.status == 200)
            let metrics = try await harness.get("/metrics")
            #expect(metrics.contains(#"starling_gateway_shed_total{pool="pool",criticality="Sheddable"} 1"#))
            #expect(metrics.contains(#"starling_gateway_queued_total{pool="pool",criticality="Critical"} 1"#))
        }
    }

    /// A client that leaves a non-streaming request: the gateway ends the upstream request (the model server aborts
    /// it, as vLLM does) and counts it under code 499, as it does a stream whose client left.
    @Test func aClientLeavingANonStreamingRequestAbortsItUpstreamAndIsCounted() async throws {
        let servers = try await ModelServerProcess.start(1)
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { harness in
            try await harness.waitScraped()
            let body = #"{"model":"starling/tiny","prompt":"tell me","max_tokens":3000,"ignore_eos":true}"#
            let connection = try RawConnection(port: harness.port)
            connection.send(
                "POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                    + "content-length: \(body.utf8.count)\r\n\r\n\(body)")
            try await waitUntil("the request to run upstream", timeout: .seconds(20)) {
                try await harness.running(on: servers[0]) == 1
            }
            connection.close()
            try await waitUntil("the upstream request to be aborted", timeout: .seconds(5)) {
                try await harness.running(on: servers[0]) == 0
            }
            try await waitUntil("the gateway to count it", timeout: .seconds(5)) {
                try await harness.get("/metrics").split(separator: "\n").contains {
                    $0.hasPrefix("starling_gateway_requests_total{") && $0.contains(#"code="499""#)
                        && $0.hasSuffix(" 1")
                }
            }
        }
    }

    static let shortLimits = ConnectionLimits(
        headerTimeout: .milliseconds(300), bodyTimeout: .milliseconds(300), idleTimeout: .milliseconds(300),
        maxConnections: 4, maxBufferedBodyBytes: 1000, listenBacklog: 64)

    func limitCount(_ harness: Harness, _ reason: String) async throws -> Int {
        let text = try await harness.get("/metrics")
        let line = text.split(separator: "\n").first {
            $0.hasPrefix("starling_gateway_connection_limit_total{") && $0.contains(#"reason="\#(reason)""#)
        }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// A slow-header client, a stalled body and an idle kept-alive connection are each closed after their
    /// timeout, and counted by reason.
    @Test func slowAndIdleConnectionsAreClosedByTheirTimeouts() async throws {
        try await Self.withGateway([], configure: { $0.limits = Self.shortLimits }) { harness in
            let slow = try RawConnection(port: harness.port)
            let started = ContinuousClock.now
            var sent = 0
            // One header byte every 50 ms: the connection never completes its head.
            for byte in "POST /v1/completions HTTP/1.1\r\nhost: x\r\n" {
                guard slow.send(String(byte)) else { break }
                sent += 1
                try await Task.sleep(for: .milliseconds(50))
                if ContinuousClock.now - started > .seconds(3) { break }
            }
            let (_, closed) = await slow.readUntilClosed(timeout: .seconds(2))
            #expect(closed)
            #expect(sent < 20, "the slow head went on for \(sent) bytes")

            let stalled = try RawConnection(port: harness.port)
            stalled.send("POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 500\r\n\r\n{\"model\"")
            #expect(await stalled.readUntilClosed(timeout: .seconds(3)).closed)

            let idle = try RawConnection(port: harness.port)
            idle.send("GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
            let (text, idleClosed) = await idle.readUntilClosed(timeout: .seconds(3))
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(idleClosed)

            #expect(try await limitCount(harness, "header_timeout") >= 1)
            #expect(try await limitCount(harness, "body_timeout") == 1)
            #expect(try await limitCount(harness, "idle_timeout") >= 1)
        }
    }

    /// Past the connection cap a client gets a 503 with retry-after; past the shared body budget a request gets a
    /// 503 naming the limit, and the budget comes back when the holder goes.
    @Test func theConnectionCapAndTheBodyBudgetRefuseWithA503() async throws {
        var limits = Self.shortLimits
        limits.bodyTimeout = .seconds(30)
        limits.headerTimeout = .seconds(30)
        try await Self.withGateway([], configure: { $0.limits = limits }) { harness in
            let holders = try (0..<4).map { _ in try RawConnection(port: harness.port) }
            // The first holds 800 of the 1,000 budget bytes with a body it never finishes.
            holders[0].send("POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 800\r\n\r\n{")
            try await waitUntil("the first body to hold its budget", timeout: .seconds(5)) {
                harness.gateway.bodies.inUse == 800
            }
            let body = #"{"model":"starling/tiny","prompt":"\#(String(repeating: "x", count: 400))"}"#
            holders[1].send(
                "POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)")
            let (overBudget, _) = await holders[1].readUntilClosed(timeout: .seconds(5))
            #expect(overBudget.hasPrefix("HTTP/1.1 503"), "\(overBudget)")
            #expect(overBudget.contains("limits.maxBufferedBodyBytes"))
            #expect(overBudget.lowercased().contains("retry-after: 1"))

            // Four connections are open (one of them closing); a fifth is refused.
            try await waitUntil("the refused connection to close", timeout: .seconds(5)) {
                await holders[1].readUntilClosed(timeout: .milliseconds(10)).closed
            }
            let extra = try (0..<2).map { _ in try RawConnection(port: harness.port) }
            for connection in extra { connection.send("GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n") }
            var answers: [String] = []
            for connection in extra { answers.append(await connection.readUntilClosed(timeout: .seconds(2)).text) }
            #expect(answers.contains { $0.hasPrefix("HTTP/1.1 503") && $0.contains("limits.maxConnections") })
            #expect(try await limitCount(harness, "too_many_connections") >= 1)

            // The holder leaves: its budget is free again.
            holders[0].close()
            try await waitUntil("the budget to come back", timeout: .seconds(5)) {
                harness.gateway.bodies.inUse == 0
            }
        }
    }

    @Test func aReplicaKilledMidStreamGivesACleanErrorAndIsAvoidedAfterwards() async throws {
        let servers = try await ModelServerProcess.start(2)
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { harness in
            try await harness.waitScraped()
            let response = try await harness.open(
                #"{"model":"starling/tiny","prompt":"tell me","max_tokens":3000,"ignore_eos":true,"stream":true}"#)
            #expect(response.status == .ok)
            let endpoint = try #require(response.headers.first(name: "x-starling-endpoint"))
            let victim = try #require(servers.first { $0.id == endpoint })
            var text = ""
            var killed = false
            for try await chunk in response.body {
                text += String(buffer: chunk)
                if !killed && text.contains("data: ") {
                    killed = true
                    await victim.kill9()
                }
            }
            // The stream ends (no hang, no reset) with an error event naming the endpoint.
            #expect(text.contains(#""type":"BadGatewayError""#))
            #expect(text.contains("\(endpoint) failed mid-stream"))
            let survivor = try #require(servers.first { $0.id != endpoint })
            for _ in 0..<5 {
                let reply = try await harness.post(#"{"model":"starling/tiny","prompt":"again","max_tokens":2}"#)
                #expect(reply.status == 200)
                #expect(reply.endpoint == survivor.id)
            }
        }
    }

    @Test(arguments: [true, false])
    func aClientDisconnectCancelsTheUpstreamRequest(streaming: Bool) async throws {
        let servers = try await ModelServerProcess.start(1)
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { harness in
            try await harness.waitScraped()
            let held = harness.hold(
                #"{"model":"starling/tiny","prompt":"long","max_tokens":3000,"ignore_eos":true,"stream":\#(streaming)}"#
            )
            try await waitUntil("the request to run upstream", timeout: .seconds(10)) {
                try await harness.running(on: servers[0]) == 1
            }
            held.cancel()
            // 3000 tokens take about 9 s; the replica stops long before.
            try await waitUntil("the upstream request to stop", timeout: .seconds(5)) {
                try await harness.running(on: servers[0]) == 0
            }
            let metrics = try await harness.get("/metrics", from: servers[0].baseURL)
            #expect(EndpointMetrics(prometheusText: Array(metrics.utf8)).waiting == 0)
        }
    }

    @Test func severalEventLoopsServeConcurrentStreams() async throws {
        let servers = try await ModelServerProcess.start(2)
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers, policy: .roundRobin) { configuration in
            configuration.eventLoops = 3
        } _: { harness in
            try await harness.waitScraped()
            #expect(Array(harness.gateway.eventLoopGroup.makeIterator()).count == 3)
            // Concurrent requests open several client connections, which the front spreads over its loops.
            let replies = try await withThrowingTaskGroup(of: Harness.Reply.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        try await harness.post(
                            #"{"model":"starling/tiny","prompt":"loop \#(i)","max_tokens":20,"ignore_eos":true,"stream":true}"#
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.count == 8)
            for reply in replies {
                #expect(reply.status == 200)
                let events = reply.body.split(separator: "\n").filter { $0.hasPrefix("data: {") }
                #expect(events.count >= 20 && reply.body.hasSuffix("data: [DONE]\n\n"))
            }
            #expect(Set(replies.compactMap(\.endpoint)).count == 2)
        }
    }

    @Test func bodiesOverTheLimitGet413() async throws {
        let servers = try await ModelServerProcess.start(1)
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { configuration in
            configuration.maxBodyBytes = 64 << 10
        } _: { harness in
            let big = String(repeating: "word ", count: 20_000)
            let reply = try await harness.post(#"{"model":"starling/tiny","prompt":"\#(big)","max_tokens":1}"#)
            #expect(reply.status == 413)
            #expect(reply.body.contains("RequestTooLargeError") && reply.body.contains("65536 bytes"))
            // The connection closed after the 413; the next request works on a new one.
            let small = try await harness.post(#"{"model":"starling/tiny","prompt":"small","max_tokens":1}"#)
            #expect(small.status == 200)
        }
    }

    /// A client that keeps sending a body the gateway refused at its head still reads the 413: the gateway reads and
    /// drops what follows for a moment before closing, as nginx's lingering close does, instead of resetting the
    /// connection under the answer.
    @Test func aClientStillSendingARefusedBodyReadsThe413() async throws {
        try await Self.withGateway([]) { configuration in
            configuration.maxBodyBytes = 64 << 10
        } _: { harness in
            let connection = try RawConnection(port: harness.port)
            connection.send(
                "POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                    + "content-length: 4000000\r\n\r\n")
            let chunk = String(repeating: "x", count: 64 << 10)
            for _ in 0..<60 where connection.send(chunk) {}
            let (answer, _) = await connection.readUntilClosed(timeout: .seconds(5))
            #expect(answer.hasPrefix("HTTP/1.1 413"), "read \(answer.count) bytes: \(answer.prefix(80))")
        }
    }

    @Test func aRefusedConnectionIsRetriedOnAnotherEndpoint() async throws {
        let servers = try await ModelServerProcess.start(1)
        defer { servers.forEach { $0.stop() } }
        let dead = try await ModelServerProcess.start(1)[0]
        await dead.kill9()
        try await Self.withGateway(servers + [dead], policy: .roundRobin) { configuration in
            // Slow scrapes, so requests find the dead endpoint before its scrapes take it out.
            configuration.scrapeInterval = .seconds(30)
            configuration.connectTimeout = .milliseconds(200)
        } _: { harness in
            for _ in 0..<4 {
                let reply = try await harness.post(#"{"model":"starling/tiny","prompt":"hi","max_tokens":2}"#)
                #expect(reply.status == 200)
                #expect(reply.endpoint == servers[0].id)
            }
            let metrics = try await harness.get("/metrics")
            #expect(metrics.contains(#"starling_gateway_retries_total{pool="pool"} 1"#))
            #expect(metrics.contains(#"starling_gateway_endpoints{pool="pool",state="unhealthy"} 1"#))
        }
    }

    @Test func noEndpointGives503AfterTheWaitAndUnknownModels404() async throws {
        try await Self.withGateway([]) { configuration in
            configuration.pools[0].settings.models = ["starling/tiny"]
            configuration.pools[0].settings.noEndpointWait = .milliseconds(300)
        } _: { harness in
            let started = ContinuousClock.now
            let reply = try await harness.post(#"{"model":"starling/tiny","prompt":"hi"}"#)
            #expect(reply.status == 503)
            #expect(reply.body.contains("No ready endpoint serves `starling/tiny` (waited 0.3 seconds)"))
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            let unknown = try await harness.post(#"{"model":"gpt-9","prompt":"hi"}"#)
            #expect(unknown.status == 404)
            #expect(unknown.body.contains("The model `gpt-9` does not exist."))
            let malformed = try await harness.post(#"{"model":"starling/tiny","prompt":"#)
            #expect(malformed.status == 400)
            let wrongPath = try await harness.post("{}", path: "/v1/embeddings")
            #expect(wrongPath.status == 404 && wrongPath.body.contains("No route for POST /v1/embeddings"))
        }
    }

    @Test func slowUpstreamsGive504() async throws {
        let servers = try await ModelServerProcess.start(1)
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { configuration in
            configuration.upstreamTimeout = .milliseconds(300)
        } _: { harness in
            // Not streamed: the head comes with the whole answer, about 3 s later.
            let reply = try await harness.post(
                #"{"model":"starling/tiny","prompt":"slow","max_tokens":1000,"ignore_eos":true}"#)
            #expect(reply.status == 504)
            #expect(reply.body.contains("GatewayTimeoutError") && reply.body.contains("did not answer within"))
        }
    }

    @Test func aTrafficSplitRenamesTheModelAndModelsListsEverything() async throws {
        let servers = try await ModelServerProcess.start(1, ["--lora-modules", "sql-v1=/a/1", "sql-v2=/a/2"])
        defer { servers.forEach { $0.stop() } }
        try await Self.withGateway(servers) { configuration in
            configuration.objectives.models["sql"] = .init(
                objective: "sql", criticality: .critical,
                targets: [.init(model: "sql-v1", weight: 1), .init(model: "sql-v2", weight: 1)])
        } _: { harness in
            try await harness.waitScraped()
            var served: Set<String> = []
            for _ in 0..<16 {
                let reply = try await harness.post(#"{"model":"sql","prompt":"select","max_tokens":1,"stream":false}"#)
                #expect(reply.status == 200)
                let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
                served.insert(object?["model"] as? String ?? "")
            }
            #expect(served == ["sql-v1", "sql-v2"])
            let models = try await harness.get("/v1/models")
            for id in ["starling/tiny", "sql-v1", "sql-v2", "sql"] { #expect(models.contains(#""id":"\#(id)""#)) }
            #expect(models.contains(#""parent":"starling/tiny""#))
        }
    }
}
