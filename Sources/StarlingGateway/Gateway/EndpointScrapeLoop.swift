import Foundation
import NIOCore
import NIOHTTP1

/// One endpoint's scrapes: its `/metrics` every scrape interval and its `/v1/models` now and then, over one
/// keep-alive connection, driven by callbacks on one event loop. A task per endpoint did the same with a suspension
/// per request and per sleep, and took a fifth more CPU per scrape (idle gateway, `perf`: 215 against 170 µs, most of
/// what is left being the loopback write and read); with four endpoints at the default 50 ms, scrapes are about a
/// tenth of the gateway's CPU while streaming, and more with many endpoints.
///
/// Lives on `loop`: made anywhere, then used only there (`start`, `stop`). Ends by itself, calling `onFinish`, once
/// its endpoint has left the pool.
final class EndpointScrapeLoop: PartSink {
    typealias Part = UpstreamResponsePart

    private enum Asking { case metrics, models }

    private let gateway: Gateway
    private let pool: EndpointPool
    private let id: String
    private let loop: any EventLoop
    private let onFinish: @Sendable () -> Void
    /// The longest wait for each part of an answer.
    private let requestTimeout: TimeAmount
    /// Largest answer read; a larger one counts as a failure.
    private let maxAnswerBytes: Int
    private let clock = ContinuousClock()
    /// The two requests, encoded once.
    private let metricsRequest: ByteBuffer
    private let modelsRequest: ByteBuffer

    private var connection: UpstreamConnection?
    /// What the exchange in progress asks for; nil between exchanges.
    private var asking: Asking?
    /// Whether the connection was used before this exchange (its failure before any answer gets one retry).
    private var reused = false
    private var status: HTTPResponseStatus?
    private var keepAlive = true
    private var received = 0
    private var metricsParser = EndpointMetrics.Parser()
    private var modelsBody = ByteBuffer()
    private var modelsDue: ContinuousClock.Instant
    private var nextRound: Scheduled<Void>?
    private var stopping = false
    private var finished = false

    init(
        gateway: Gateway, pool: EndpointPool, id: String, loop: any EventLoop,
        requestTimeout: TimeAmount = EndpointScraper.requestTimeout,
        maxAnswerBytes: Int = EndpointScraper.maxAnswerBytes, onFinish: @escaping @Sendable () -> Void
    ) {
        self.gateway = gateway
        self.pool = pool
        self.id = id
        self.loop = loop
        self.requestTimeout = requestTimeout
        self.maxAnswerBytes = maxAnswerBytes
        self.onFinish = onFinish
        metricsRequest = Self.request(EndpointMetrics.scrapePath, host: id)
        modelsRequest = Self.request("/v1/models", host: id)
        modelsDue = clock.now
    }

    /// Starts the first round now. On the loop.
    func start() { round() }

    /// Ends the loop: no new round, and the exchange in progress (if any) is cut short. On the loop.
    func stop() {
        stopping = true
        nextRound?.cancel()
        nextRound = nil
        if let connection {
            // Failing the exchange in progress (if any) finishes the loop.
            self.connection = nil
            connection.close()
        }
        if asking == nil { finish() }
    }

    private func round() {
        nextRound = nil
        guard !stopping, pool.read({ $0.endpoints[id] }) != nil else { return finish() }
        ask(.metrics)
    }

    private func ask(_ what: Asking) {
        asking = what
        status = nil
        keepAlive = true
        received = 0
        metricsParser = EndpointMetrics.Parser()
        modelsBody.clear()
        if let connection, connection.isReusable {
            send(over: connection, reused: true)
            return
        }
        connection?.close()
        connection = nil
        UpstreamConnection.connecting(to: id, on: loop, timeout: gateway.configuration.connectTimeout)
            .assumeIsolated().whenComplete { result in
                switch result {
                case .success(let connection):
                    guard !self.stopping else {
                        connection.close()
                        return self.ended(succeeded: false)
                    }
                    self.connection = connection
                    self.send(over: connection, reused: false)
                case .failure:
                    self.ended(succeeded: false)
                }
            }
    }

    private func send(over connection: UpstreamConnection, reused: Bool) {
        self.reused = reused
        connection.parts.handler.value.relay(to: self, timeout: requestTimeout)
        connection.send(encoded: asking == .models ? modelsRequest : metricsRequest)
    }

    /// `GET path` with a `host` header and nothing else, as HTTP/1.1 bytes.
    static func request(_ path: String, host: String) -> ByteBuffer {
        var bytes = ByteBuffer()
        bytes.writeHTTPHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: ["host": host]))
        return bytes
    }

    // MARK: PartSink

    func receive(_ part: Part) -> PartSinkDemand {
        switch part {
        case .head(let head):
            // Informational answers come before the real one.
            guard head.status.code >= 200 else { return .more }
            status = head.status
            keepAlive = head.isKeepAlive
            return .more
        case .body(let bytes):
            received += bytes.readableBytes
            guard received <= maxAnswerBytes else { return giveUp() }
            if status == .ok {
                if asking == .models {
                    modelsBody.writeImmutableBuffer(bytes)
                } else {
                    metricsParser.feed(bytes.readableBytesView)
                }
            }
            return .more
        case .chunks:
            // Only a relay to a client asks for chunks as they came.
            return giveUp()
        case .end:
            // Recorded once the relay has let go of the connection, which the next exchange may reuse (or which
            // closes then, if the server said so: closing it now would fail this exchange).
            loop.assumeIsolated().execute { self.ended(succeeded: true) }
            return .done
        }
    }

    func readComplete() {}

    func failed(_ error: ProxyConnectionError) {
        drop()
        // A reused connection the server closed just as it was reused gets the request again on a new one.
        if reused, status == nil, error != .timedOut, !stopping, let asking {
            return ask(asking)
        }
        ended(succeeded: false)
    }

    /// Ends the exchange as a failure and closes its connection, once the relay has let go of this sink: closing
    /// the connection now would call `failed` in the middle of this part, and end the exchange twice.
    private func giveUp() -> PartSinkDemand {
        loop.assumeIsolated().execute {
            self.drop()
            self.ended(succeeded: false)
        }
        return .done
    }

    private func drop() {
        connection?.close()
        connection = nil
    }

    // MARK: Outcomes

    /// The exchange in progress is over: records what it read, then asks for the models if they are due, or waits
    /// for the next round.
    private func ended(succeeded: Bool) {
        guard let what = asking else { return }
        asking = nil
        if !keepAlive { drop() }
        let endpoint = pool.read { $0.endpoints[id] }
        switch what {
        case .metrics:
            if succeeded, status == .ok || status == .notFound {
                // A server without `/metrics` is reachable but reports nothing: every figure stays unknown.
                let metrics = status == .ok ? metricsParser.finish() : EndpointMetrics()
                pool.update { $0.recordScrape(id, metrics, at: clock.now) }
                // A newly loaded adapter is running before the next models refresh would list it.
                if let running = metrics.runningAdapters, !running.isEmpty,
                    !running.isSubset(of: Set((endpoint?.models ?? []).map(\.id)))
                {
                    modelsDue = clock.now
                }
            } else {
                pool.update { $0.recordScrapeFailure(id) }
                gateway.metrics.scrapeError(pool: pool.name, endpoint: id)
            }
            if !stopping, endpoint != nil, clock.now >= modelsDue || endpoint?.models == nil {
                return ask(.models)
            }
        case .models:
            if succeeded, status == .ok, let models = EndpointScraper.parseModels(Data(modelsBody.readableBytesView)) {
                pool.update { $0.recordModels(id, models) }
                modelsDue = clock.now + gateway.configuration.modelsInterval
            }
        }
        guard !stopping else { return finish() }
        let next = EndpointScraper.nextTick(after: .now(), every: gateway.configuration.scrapeInterval)
        nextRound = loop.assumeIsolated().scheduleTask(deadline: next) { self.round() }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        drop()
        onFinish()
    }
}
