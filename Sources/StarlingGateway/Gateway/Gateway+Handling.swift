import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StarlingOpenAI
import StarlingTokenizer

extension Gateway {
    /// Routes one request read by the front.
    func handle(_ request: IncomingRequest, _ writer: ResponseWriter) async {
        let path = request.path
        let method = request.head.method
        switch path {
        case "/v1/completions", "/v1/chat/completions":
            guard method == .POST else { return await methodNotAllowed(writer, allowed: "POST") }
            await proxy(request, kind: path == "/v1/completions" ? .completion : .chat, writer)
        case "/v1/models":
            guard method == .GET else { return await methodNotAllowed(writer, allowed: "GET") }
            await respondJSON(writer, .ok, modelsList())
        case "/health":
            guard method == .GET else { return await methodNotAllowed(writer, allowed: "GET") }
            try? await writer.full(.ok, ["content-type": "text/plain"], body: ByteBuffer(string: "ok\n"))
        case "/metrics":
            guard method == .GET else { return await methodNotAllowed(writer, allowed: "GET") }
            for pool in pools {
                let (waiting, healthy, unhealthy, draining, load) = pool.read { state in
                    let all = state.endpoints.values
                    return (
                        state.waitingCounts, all.filter { $0.healthy && !$0.draining }.count,
                        all.filter { !$0.healthy && !$0.draining }.count, all.filter(\.draining).count, state.load
                    )
                }
                metrics.observe(
                    pool: pool.name, waiting: waiting, healthy: healthy, unhealthy: unhealthy, draining: draining)
                metrics.observe(pool: pool.name, load: load)
            }
            try? await writer.full(
                .ok, ["content-type": "text/plain; version=0.0.4; charset=utf-8"],
                body: ByteBuffer(bytes: metrics.exposition()))
        default:
            await respondError(
                writer,
                GatewayError(
                    status: 404,
                    "No route for \(method) \(path); the gateway serves /v1/completions, "
                        + "/v1/chat/completions, /v1/models, /health and /metrics", type: "NotFoundError"))
        }
    }

    private func methodNotAllowed(_ writer: ResponseWriter, allowed: String) async {
        var error = GatewayError(status: 405, "Method not allowed; use \(allowed)", type: "MethodNotAllowedError")
        error.retryAfter = nil
        await respondError(writer, error, extra: ["allow": allowed])
    }

    /// `/v1/models`: what the pools' endpoints list, plus the names objectives and rewrites accept.
    func modelsList() -> [String: Any] {
        var seen: Set<String> = []
        var data: [[String: Any]] = []
        for pool in pools {
            for model in pool.read(\.servedModels) where seen.insert(model.id).inserted {
                var entry: [String: Any] = [
                    "id": model.id, "object": "model", "owned_by": "starling", "parent": model.parent ?? NSNull(),
                ]
                if let length = model.maxModelLength { entry["max_model_len"] = length }
                data.append(entry)
            }
        }
        for alias in objectives.aliases where seen.insert(alias).inserted {
            data.append(["id": alias, "object": "model", "owned_by": "starling", "parent": NSNull()])
        }
        return ["object": "list", "data": data]
    }

    func respondJSON(_ writer: ResponseWriter, _ status: HTTPResponseStatus, _ object: Any) async {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        try? await writer.full(status, ["content-type": "application/json"], body: ByteBuffer(bytes: data))
    }

    func respondError(
        _ writer: ResponseWriter, _ error: GatewayError, requestID: String? = nil, extra: HTTPHeaders = [:]
    ) async {
        var headers: HTTPHeaders = ["content-type": "application/json"]
        if let retryAfter = error.retryAfter { headers.add(name: "retry-after", value: String(retryAfter)) }
        if let requestID { headers.add(name: "x-request-id", value: requestID) }
        headers.add(contentsOf: extra)
        try? await writer.full(
            HTTPResponseStatus(statusCode: error.error.status), headers, body: ByteBuffer(bytes: error.error.json))
    }

    /// A completion or chat request: parse, resolve the model, pick an endpoint (waiting or shedding under
    /// saturation), forward, and retry elsewhere when the endpoint fails before answering.
    func proxy(_ request: IncomingRequest, kind: InferenceRequestBody.Kind, _ writer: ResponseWriter) async {
        let requestID = request.head.headers.first(name: "x-request-id") ?? newRequestID()
        var logger = RequestLogger(logger: self.logger, requestID: requestID)
        var label = (model: "unknown", objective: String?.none)
        func fail(_ error: GatewayError) async {
            metrics.request(model: label.model, objective: label.objective, status: error.error.status)
            logger.log(
                .debug, "request refused",
                ["http.status": "\(error.error.status)", "error.message": "\(error.error.message)"])
            await respondError(writer, error, requestID: requestID)
        }
        switch request.bodyRefusal {
        case .tooLarge?:
            return await fail(
                GatewayError(
                    status: 413, "The request body is larger than \(configuration.maxBodyBytes) bytes",
                    type: "RequestTooLargeError"))
        case .overBudget?:
            return await fail(
                GatewayError(
                    status: 503,
                    "The gateway is holding its limit of \(configuration.limits.maxBufferedBodyBytes) bytes of request "
                        + "bodies (limits.maxBufferedBodyBytes); retry", type: "ServiceUnavailableError", retryAfter: 1)
            )
        case nil:
            break
        }
        let parsed: InferenceRequestBody
        do {
            parsed = try InferenceRequestBody.parse(request.body, kind: kind)
        } catch {
            return await fail(GatewayError(error))
        }
        let resolution = resolve(
            model: parsed.model, objective: request.head.headers.first(name: configuration.objectiveHeader))
        guard let pool = pool(serving: resolution.model) else {
            return await fail(GatewayError(.modelNotFound(parsed.model)))
        }
        label = (parsed.model, resolution.objective)
        var ask = PoolState.Ask(
            model: resolution.model, criticality: resolution.criticality,
            session: request.head.headers.first(name: configuration.sessionHeader))
        if pool.usesPrefix {
            let tokens = parsed.promptTokens ?? tokenizer.encode(parsed.promptText ?? "")
            ask.blockSize = pool.read(\.blockSize)
            ask.promptTokens = tokens.count
            ask.hashes = PrefixBlockHasher(blockSize: ask.blockSize).blockHashes(
                tokens: tokens, model: resolution.model)
        }
        let body =
            resolution.model == parsed.model
            ? request.body : InferenceRequestBody.renaming(request.body, range: parsed.modelRange, to: resolution.model)
        var lastFailure: Upstream.Failure?
        for attempt in 0...configuration.maxRetries {
            ask.isRetry = attempt > 0
            let outcome = await pool.acquire(ask) {
                metrics.queued(pool: pool.name, criticality: resolution.criticality)
            }
            let lease: PoolState.Lease
            switch outcome {
            case .lease(let l): lease = l
            case .wait: return
            case .fail(let failure):
                if Task.isCancelled {
                    metrics.request(model: label.model, objective: label.objective, status: GatewayMetrics.clientClosed)
                    return
                }
                if let lastFailure, case .noEndpoint = failure {
                    return await replay(lastFailure, writer, requestID, label)
                }
                switch failure {
                case .shed(let reason):
                    metrics.shed(pool: pool.name, criticality: resolution.criticality)
                    return await fail(.shed(reason, retryAfter: 1))
                case .noEndpoint(let message):
                    return await fail(.noEndpoint(message.prefix(1).uppercased() + message.dropFirst()))
                case .queueTimeout(let waited):
                    metrics.shed(pool: pool.name, criticality: resolution.criticality)
                    return await fail(.shed("no endpoint had room within \(waited)", retryAfter: 1))
                }
            }
            if Task.isCancelled {
                pool.release(lease)
                metrics.request(model: label.model, objective: label.objective, status: GatewayMetrics.clientClosed)
                return
            }
            metrics.picked(pool: pool.name, endpoint: lease.endpoint)
            logger.endpoint = lease.endpoint
            let upstream = Upstream(
                gateway: self, pool: pool, lease: lease, request: request, body: body, requestID: requestID,
                model: label.model, objective: label.objective, logger: logger)
            let result = await upstream.forward(writer)
            pool.release(lease)
            switch result {
            case .done:
                return
            case .retry(let failure):
                lastFailure = failure
                ask.exclude.insert(lease.endpoint)
                if attempt < configuration.maxRetries {
                    metrics.retried(pool: pool.name)
                    logger.log(
                        .info, "retrying on another endpoint",
                        ["error.message": "\(failure.message)", "retry.attempt": "\(attempt + 1)"])
                }
            }
        }
        if let lastFailure { await replay(lastFailure, writer, requestID, label) }
    }

    /// Answers with the last endpoint's failure once retries are used up.
    private func replay(
        _ failure: Upstream.Failure, _ writer: ResponseWriter, _ requestID: String,
        _ label: (model: String, objective: String?)
    ) async {
        metrics.request(model: label.model, objective: label.objective, status: failure.status)
        switch failure {
        case .connection:
            await respondError(writer, .badGateway(failure.message), requestID: requestID)
        case .response(let status, var headers, let body, let endpoint):
            headers.replaceOrAdd(name: "x-starling-endpoint", value: endpoint)
            headers.replaceOrAdd(name: "x-request-id", value: requestID)
            try? await writer.full(HTTPResponseStatus(statusCode: status), headers, body: body)
        }
    }
}
