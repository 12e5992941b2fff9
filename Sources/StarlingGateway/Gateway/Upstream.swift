import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StarlingOpenAI

/// One attempt at one endpoint: sends the request, and streams the answer back to the client as it comes
/// (server-sent events chunk by chunk, with backpressure both ways; other bodies whole).
struct Upstream {
    enum Failure: Sendable {
        /// No answer: refused, reset or closed before the response head.
        case connection(String)
        /// A 5xx before any byte reached the client, kept to be passed on if no retry succeeds.
        case response(status: Int, headers: HTTPHeaders, body: ByteBuffer, endpoint: String)

        var status: Int {
            switch self {
            case .connection: 502
            case .response(let status, _, _, _): status
            }
        }

        var message: String {
            switch self {
            case .connection(let message): message
            case .response(let status, _, _, let endpoint): "\(endpoint) answered \(status)"
            }
        }
    }

    enum Result: Sendable {
        case done
        case retry(Failure)
    }

    /// Headers that describe one connection, not the message (RFC 9110 section 7.6.1), plus the ones the
    /// gateway sets itself.
    static let hopByHop: [[UInt8]] = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-authorization", "proxy-authenticate", "host", "content-length", "expect",
    ].map { Array($0.utf8) }

    /// Whether header `name` is one of `hopByHop`, ignoring case, without making a lowercased copy (it runs for
    /// every header of every request and answer).
    static func isHopByHop(_ name: String) -> Bool {
        let count = name.utf8.count
        for candidate in hopByHop where candidate.count == count {
            // Header names are tokens: setting bit 5 lowercases their letters and leaves `-` and digits alone.
            if zip(name.utf8, candidate).allSatisfy({ $0 | 0x20 == $1 }) { return true }
        }
        return false
    }

    /// Header names a message's `Connection` header lists (RFC 9110 section 7.6.1: they are hop-by-hop too and must
    /// not be forwarded), lowercased; empty when it lists none beyond the usual `close` / `keep-alive`.
    static func connectionNamed(_ headers: HTTPHeaders) -> Set<String> {
        var named = Set<String>()
        for value in headers[canonicalForm: "connection"] {
            let token = value.trimmingCharacters(in: .whitespaces).lowercased()
            if !token.isEmpty && token != "close" && token != "keep-alive" { named.insert(token) }
        }
        return named
    }

    /// The headers of `headers` that may be forwarded: neither hop-by-hop nor named by its `Connection` header.
    static func forwardable(_ headers: HTTPHeaders) -> some Sequence<(name: String, value: String)> {
        let named = connectionNamed(headers)
        return headers.lazy.filter { header in
            !isHopByHop(header.name) && (named.isEmpty || !named.contains(header.name.lowercased()))
        }
    }

    /// Largest non-streaming response passed on.
    static let maxResponseBytes = 256 << 20

    let gateway: Gateway
    let pool: EndpointPool
    let lease: PoolState.Lease
    let request: IncomingRequest
    let body: ByteBuffer
    let requestID: String
    let model: String
    let objective: String?
    let logger: RequestLogger

    func forward(_ writer: ResponseWriter) async -> Result {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: request.head.uri)
        head.headers.reserveCapacity(request.head.headers.count + 3)
        head.headers.add(name: "host", value: lease.endpoint)
        for header in Self.forwardable(request.head.headers) {
            head.headers.add(name: header.name, value: header.value)
        }
        head.headers.replaceOrAdd(name: "x-request-id", value: requestID)
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        let timeout = TimeAmount.nanoseconds(Int64(gateway.configuration.upstreamTimeout.nanoseconds))
        let connections = gateway.connections
        let connection: UpstreamConnection
        let response: HTTPResponseHead
        do {
            (connection, response) = try await connections.exchange(
                head, body: body, with: lease.endpoint, on: writer.eventLoop, timeout: timeout)
        } catch {
            if Task.isCancelled {
                record(status: GatewayMetrics.clientClosed)
                return .done
            }
            switch error {
            case .noAnswer(let error) where error as? ProxyConnectionError == .timedOut:
                await finish(
                    status: 504,
                    error: .timeout(
                        "\(lease.endpoint) did not answer within \(gateway.configuration.upstreamTimeout)"),
                    writer)
                return .done
            case .unreachable(let error):
                pool.update { $0.recordConnectionFailure(lease.endpoint) }
                return .retry(.connection("\(lease.endpoint) could not be reached: \(error)"))
            case .noAnswer(let error):
                pool.update { $0.recordConnectionFailure(lease.endpoint) }
                return .retry(.connection("\(lease.endpoint) failed before answering: \(error)"))
            }
        }
        var headers: HTTPHeaders = [:]
        headers.reserveCapacity(response.headers.count + 2)
        for header in Self.forwardable(response.headers) {
            headers.add(name: header.name, value: header.value)
        }
        headers.replaceOrAdd(name: "x-starling-endpoint", value: lease.endpoint)
        headers.replaceOrAdd(name: "x-request-id", value: requestID)
        let reader = UpstreamReader(
            connection: connection, pool: connections, timeout: timeout, keepAlive: response.isKeepAlive)
        if response.status.code >= 500 {
            let body = (try? await reader.collect(upTo: 1 << 20)) ?? ByteBuffer()
            return .retry(
                .response(status: Int(response.status.code), headers: headers, body: body, endpoint: lease.endpoint))
        }
        let contentType = response.headers.first(name: "content-type") ?? ""
        if contentType.hasPrefix("text/event-stream") {
            await stream(reader, status: response.status, headers: headers, writer)
        } else {
            do {
                let body = try await reader.collect(upTo: Self.maxResponseBytes)
                try? await writer.full(response.status, headers, body: body)
                record(status: Int(response.status.code))
            } catch {
                if Task.isCancelled {
                    record(status: GatewayMetrics.clientClosed)
                    return .done
                }
                pool.update { $0.recordConnectionFailure(lease.endpoint) }
                await finish(status: 502, error: .badGateway("\(lease.endpoint) failed mid-response: \(error)"), writer)
            }
        }
        return .done
    }

    /// Server-sent events: each chunk goes out as it arrives. An endpoint that fails mid-stream ends the stream
    /// with an error event (the client has the status already); a client that goes away stops the upstream
    /// request.
    private func stream(
        _ reader: UpstreamReader, status: HTTPResponseStatus, headers: HTTPHeaders, _ writer: ResponseWriter
    ) async {
        do {
            try await writer.head(status, headers)
        } catch {
            reader.abandon()
            return
        }
        let onFirstToken: (@Sendable () -> Void)?
        if lease.prefillTokens > 0 {
            onFirstToken = { [pool, lease] in pool.update { $0.prefillDone(lease) } }
        } else {
            onFirstToken = nil
        }
        switch await reader.relay(to: writer, status: status, start: request.arrival, onFirstToken: onFirstToken) {
        case .ended(let tokens):
            try? await writer.end()
            record(status: Int(status.code), tokens: tokens)
        case .upstreamFailed(let error, let tokens):
            pool.update { $0.recordConnectionFailure(lease.endpoint) }
            logger.log(.warning, "endpoint failed mid-stream", ["error.message": "\(error)"])
            let event = GatewayError.badGateway("\(lease.endpoint) failed mid-stream: \(error)").error.json
            var buffer = ByteBuffer(string: "data: ")
            buffer.writeBytes(event)
            buffer.writeString("\n\n")
            try? await writer.body(buffer)
            try? await writer.end()
            record(status: 502, tokens: tokens)
        case .clientGone(let tokens):
            logger.log(.debug, "client went away mid-stream")
            record(status: GatewayMetrics.clientClosed, tokens: tokens)
        }
    }

    /// An error response when nothing has been written yet.
    private func finish(status: Int, error: GatewayError, _ writer: ResponseWriter) async {
        record(status: status)
        await gateway.respondError(writer, error, requestID: requestID)
    }

    private func record(status: Int, tokens: TokenTimer? = nil) {
        let metrics = gateway.metrics
        metrics.request(model: model, objective: objective, status: status)
        metrics.endToEnd(model: model, ContinuousClock.now - request.arrival)
        if let tokens {
            if let first = tokens.firstToken { metrics.timeToFirstToken(model: model, first) }
            metrics.interToken(model: model, tokens.gaps)
        }
        logger.log(
            .debug, "request done",
            ["http.status": "\(status)", "duration.seconds": "\((ContinuousClock.now - request.arrival).seconds)"])
    }
}
