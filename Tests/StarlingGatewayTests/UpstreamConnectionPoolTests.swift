import AsyncHTTPClient
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import StarlingGateway

/// Upstream connections over loopback sockets to a scripted server, driven from a task on the connections' loop
/// as the gateway's request tasks are.
@Suite struct UpstreamConnectionPoolTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    func withServer(
        _ script: @escaping ScriptedHTTPServer.Script, _ body: (ScriptedHTTPServer) async throws -> Void
    ) async throws {
        let server = try await ScriptedHTTPServer.start(script)
        do {
            try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) { try await body(server) }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func get(_ path: String, _ server: ScriptedHTTPServer) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: ["host": server.endpoint])
    }

    /// Reads an answer to its end.
    func answer(_ connection: UpstreamConnection) async throws -> (HTTPResponseHead, String) {
        let deadline = NIODeadline.now() + .seconds(10)
        guard case .head(let head) = try await connection.next(deadline: deadline) else {
            throw ProxyConnectionError.failed("no head")
        }
        var body = ByteBuffer()
        while case .body(var chunk) = try await connection.next(deadline: deadline) { body.writeBuffer(&chunk) }
        return (head, String(buffer: body))
    }

    @Test func aConnectionCarriesTheNextRequestOnceTheAnswerEnded() async throws {
        try await withServer({ head, n in .text("\(head.uri) #\(n)") }) { server in
            let pool = UpstreamConnectionPool(connectTimeout: .seconds(1))
            let (first, firstReused) = try await pool.acquire(server.endpoint, on: loop)
            #expect(!firstReused)
            first.send(get("/a", server), body: ByteBuffer())
            #expect(try await answer(first).1 == "/a #1")
            pool.release(first, reusable: true)
            #expect(pool.idleCount == 1)

            let (second, secondReused) = try await pool.acquire(server.endpoint, on: loop)
            #expect(secondReused)
            #expect(second.channel === first.channel)
            second.send(get("/b", server), body: ByteBuffer())
            #expect(try await answer(second).1 == "/b #2")
            pool.release(second, reusable: true)
            #expect(server.connectionsAccepted == 1)
            pool.shutdown()
            #expect(pool.idleCount == 0)
        }
    }

    @Test func aConnectionWithAnAnswerLeftUnreadIsClosedNotKept() async throws {
        try await withServer({ _, _ in .chunks(count: 4, size: 100) }) { server in
            let pool = UpstreamConnectionPool(connectTimeout: .seconds(1))
            let (connection, _) = try await pool.acquire(server.endpoint, on: loop)
            connection.send(get("/", server), body: ByteBuffer())
            guard case .head = try await connection.next(deadline: .now() + .seconds(10)) else {
                Issue.record("expected a head")
                return
            }
            pool.release(connection, reusable: true)
            #expect(pool.idleCount == 0)
            try await connection.channel.closeFuture.get()
        }
    }

    @Test func aConnectionTheServerClosedIsNotHandedOutAgain() async throws {
        try await withServer({ _, _ in .text("ok") }) { server in
            let pool = UpstreamConnectionPool(connectTimeout: .seconds(1))
            let (first, _) = try await pool.acquire(server.endpoint, on: loop)
            first.send(get("/", server), body: ByteBuffer())
            _ = try await answer(first)
            pool.release(first, reusable: true)
            await server.closeConnections()
            try await first.channel.closeFuture.get()
            pool.closeExpired()
            #expect(pool.idleCount == 0)
            let (second, reused) = try await pool.acquire(server.endpoint, on: loop)
            #expect(!reused)
            second.send(get("/", server), body: ByteBuffer())
            #expect(try await answer(second).1 == "ok")
            #expect(server.connectionsAccepted == 2)
        }
    }

    @Test func idleConnectionsExpire() async throws {
        try await withServer({ _, _ in .text("ok") }) { server in
            let pool = UpstreamConnectionPool(idleTimeout: .seconds(30), connectTimeout: .seconds(1))
            let (connection, _) = try await pool.acquire(server.endpoint, on: loop)
            connection.send(get("/", server), body: ByteBuffer())
            _ = try await answer(connection)
            pool.release(connection, reusable: true)
            pool.closeExpired(now: .now + .seconds(10))
            #expect(pool.idleCount == 1)
            pool.closeExpired(now: .now + .seconds(31))
            #expect(pool.idleCount == 0)
            try await connection.channel.closeFuture.get()
        }
    }

    @Test func aLongAnswerArrivesWhole() async throws {
        try await withServer({ _, _ in .chunks(count: 2_000, size: 1_000) }) { server in
            let pool = UpstreamConnectionPool(connectTimeout: .seconds(1))
            let (connection, _) = try await pool.acquire(server.endpoint, on: loop)
            connection.send(get("/", server), body: ByteBuffer())
            let (head, body) = try await answer(connection)
            #expect(head.status == .ok)
            #expect(body.utf8.count == 2_000_000)
            #expect(connection.isReusable)
        }
    }

    @Test func aCancelledReadClosesTheConnection() async throws {
        try await withServer({ _, _ in .silent }) { server in
            let pool = UpstreamConnectionPool(connectTimeout: .seconds(1))
            let (connection, _) = try await pool.acquire(server.endpoint, on: loop)
            connection.send(get("/", server), body: ByteBuffer())
            let reader = Task(executorPreference: EventLoopTaskExecutor(loop)) {
                try await connection.next(deadline: .now() + .seconds(60))
            }
            reader.cancel()
            await #expect(throws: ProxyConnectionError.cancelled) { try await reader.value }
            try await connection.channel.closeFuture.get()
        }
    }

    @Test func anUnreachableEndpointFailsToConnect() async throws {
        // A port bound but not listening refuses connections, and stays ours (no other test can take it) until
        // closed.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let pool = UpstreamConnectionPool(connectTimeout: .seconds(1))
        await #expect(throws: (any Error).self) { _ = try await pool.acquire("127.0.0.1:\(port)", on: loop) }
    }

    @Test(arguments: [
        ("127.0.0.1:8000", "127.0.0.1", 8000), ("[::1]:9000", "::1", 9000), ("model-0.pool:80", "model-0.pool", 80),
    ])
    func endpointsSplitIntoHostAndPort(endpoint: String, host: String, port: Int) throws {
        let (parsedHost, parsedPort) = try UpstreamConnection.hostAndPort(endpoint)
        #expect(parsedHost == host)
        #expect(parsedPort == port)
    }

    @Test func anEndpointWithoutAPortIsRejected() {
        #expect(throws: ProxyConnectionError.self) { try UpstreamConnection.hostAndPort("localhost") }
    }

    /// The gateway reuses a connection the server has just dropped: the request goes again on a fresh connection
    /// to the same endpoint, and the endpoint is not marked as failing.
    @Test func aRequestOnAConnectionTheServerDroppedGoesAgainOnAFreshOne() async throws {
        let server = try await ScriptedHTTPServer.start { head, n in
            guard head.uri == "/v1/completions" else { return .text("") }
            return n == 1 ? .text(#"{"object":"text_completion","choices":[]}"#) : .close
        }
        var settings = PoolSettings(name: "pool", profile: RoutingPolicy.roundRobin.profile())
        settings.models = ["m"]
        var configuration = GatewayConfiguration(pools: [
            .init(settings: settings, endpoints: [EndpointAddress(host: "127.0.0.1", port: server.port)])
        ])
        configuration.port = 0
        configuration.maxRetries = 0
        var logger = Logger(label: "test.gateway")
        logger.logLevel = .error
        let gateway = Gateway(configuration: configuration, logger: logger)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await gateway.withRunning { port in
                for _ in 0..<3 {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/completions")
                    request.method = .POST
                    request.body = .bytes(ByteBuffer(string: #"{"model":"m","prompt":"hi"}"#))
                    let response = try await client.execute(request, timeout: .seconds(10))
                    #expect(response.status == .ok)
                    _ = try await response.body.collect(upTo: 1 << 20)
                }
            }
        } catch {
            Issue.record(error)
        }
        try await client.shutdown()
        await server.stop()
        #expect(server.requestsRead("/v1/completions") == 5, "three answered, two dropped and sent again")
        let healthy = gateway.pools[0].read { $0.endpoints.values.allSatisfy(\.healthy) }
        #expect(healthy)
    }
}
