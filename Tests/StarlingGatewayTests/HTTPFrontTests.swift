import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import StarlingGateway

/// The gateway's front over a loopback socket, in front of a scripted model server.
@Suite struct HTTPFrontTests {
    /// A client that sends its requests without waiting for answers (HTTP/1.1 pipelining) gets every answer, in
    /// order, on the one connection: more requests than the front reads ahead, so reading stops and resumes.
    @Test(arguments: [3, 40])
    func pipelinedRequestsAreAnsweredInOrder(count: Int) async throws {
        let server = try await ScriptedHTTPServer.start { head, _ in
            head.uri == "/v1/completions" ? .text("answer \(head.headers.first(name: "x-test") ?? "-")") : .text("")
        }
        var settings = PoolSettings(name: "pool", profile: RoutingPolicy.roundRobin.profile())
        settings.models = ["m"]
        var configuration = GatewayConfiguration(pools: [
            .init(settings: settings, endpoints: [EndpointAddress(host: "127.0.0.1", port: server.port)])
        ])
        configuration.port = 0
        var logger = Logger(label: "test.gateway")
        logger.logLevel = .error
        let gateway = Gateway(configuration: configuration, logger: logger)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        do {
            try await gateway.withRunning { port in
                try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
                    let client = try await UpstreamConnection.connect(
                        to: "127.0.0.1:\(port)", on: loop, timeout: .seconds(10))
                    defer { client.close() }
                    let body = ByteBuffer(string: #"{"model":"m","prompt":"hi"}"#)
                    for index in 0..<count {
                        let head = HTTPRequestHead(
                            version: .http1_1, method: .POST, uri: "/v1/completions",
                            headers: [
                                "host": "gateway", "content-length": "\(body.readableBytes)", "x-test": "\(index)",
                            ])
                        client.send(head, body: body)
                    }
                    let deadline = NIODeadline.now() + .seconds(20)
                    for index in 0..<count {
                        guard case .head(let head) = try await client.next(deadline: deadline) else {
                            Issue.record("answer \(index) did not start with a head")
                            return
                        }
                        #expect(head.status == .ok)
                        var text = ByteBuffer()
                        while case .body(var chunk) = try await client.next(deadline: deadline) {
                            text.writeBuffer(&chunk)
                        }
                        #expect(String(buffer: text) == "answer \(index)")
                    }
                }
            }
        } catch {
            Issue.record(error)
        }
        await server.stop()
        #expect(server.requestsRead("/v1/completions") == count)
    }

    /// An HTTP/1.0 client gets HTTP/1.0 answers with a length, and the connection closes after each unless it
    /// asked to keep it (then it is told `keep-alive`).
    @Test(arguments: [false, true])
    func http10ClientsGetTheirVersionAndConnectionRules(keepAlive: Bool) async throws {
        var configuration = GatewayConfiguration(pools: [.init(settings: PoolSettings(name: "pool"))])
        configuration.port = 0
        var logger = Logger(label: "test.gateway")
        logger.logLevel = .error
        let gateway = Gateway(configuration: configuration, logger: logger)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        try await gateway.withRunning { port in
            try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
                let client = try await UpstreamConnection.connect(
                    to: "127.0.0.1:\(port)", on: loop, timeout: .seconds(10))
                defer { client.close() }
                var head = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/health")
                if keepAlive { head.headers.add(name: "connection", value: "keep-alive") }
                let deadline = NIODeadline.now() + .seconds(10)
                for _ in 0..<(keepAlive ? 2 : 1) {
                    client.send(head, body: ByteBuffer())
                    guard case .head(let answer) = try await client.next(deadline: deadline) else {
                        Issue.record("the answer did not start with a head")
                        return
                    }
                    #expect(answer.version == .http1_0 && answer.status == .ok)
                    #expect(answer.headers["content-length"] == ["3"])
                    #expect(answer.headers["connection"] == [keepAlive ? "keep-alive" : "close"])
                    guard case .body(let text) = try await client.next(deadline: deadline) else {
                        Issue.record("no body")
                        return
                    }
                    #expect(String(buffer: text) == "ok\n")
                    guard case .end = try await client.next(deadline: deadline) else {
                        Issue.record("no end")
                        return
                    }
                }
                if !keepAlive {
                    await #expect(throws: ProxyConnectionError.closed) { try await client.next(deadline: deadline) }
                }
            }
        }
    }
}
