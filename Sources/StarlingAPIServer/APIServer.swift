import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import StarlingAPI
import StarlingServerLimits

/// Settings of the embedded API server.
public struct APIServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    /// Bearer token every request must carry; nil disables authentication (tests only).
    public var token: String?
    /// How often a watch that asked for bookmarks gets one.
    public var bookmarkInterval: Duration
    /// Largest request body accepted.
    public var maxBodyBytes: Int
    /// PEM certificate chain and private key to serve HTTPS with; nil serves plain HTTP. kubectl and client-go
    /// send bearer tokens only over HTTPS.
    public var tls: (certificatePath: String, keyPath: String)?
    /// Where the node agent writes pod logs (`<namespace>_<pod>.log`), served by `pods/{name}/log`.
    public var podLogDirectory: String?
    /// Timeouts, connection cap, buffered-body cap and listen backlog (`ConnectionLimits.apiServer`).
    public var limits: ConnectionLimits

    public init(
        host: String = "127.0.0.1", port: Int = 0, token: String?, bookmarkInterval: Duration = .seconds(15),
        maxBodyBytes: Int = 3 * 1024 * 1024, tls: (certificatePath: String, keyPath: String)? = nil,
        podLogDirectory: String? = nil, limits: ConnectionLimits = .apiServer
    ) {
        self.limits = limits
        self.tls = tls
        self.podLogDirectory = podLogDirectory
        self.host = host
        self.port = port
        self.token = token
        self.bookmarkInterval = bookmarkInterval
        self.maxBodyBytes = maxBodyBytes
    }
}

/// The embedded API server: Kubernetes REST conventions over an `ObjectStore`, served over HTTP by Hummingbird.
public struct APIServer: Service {
    public let store: ObjectStore
    public let configuration: APIServerConfiguration
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void
    /// Request bodies held at once, against `configuration.limits.maxBufferedBodyBytes`.
    public let bodies: ByteBudget
    /// Connections open now, against `limits.maxConnections`.
    public let connections: ConnectionCounter
    /// `configuration.limits` with the connection cap lowered to fit the open-file limit.
    let limits: ConnectionLimits

    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public init(
        store: ObjectStore, configuration: APIServerConfiguration, logger: Logger = Logger(label: "starling.apiserver"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
        self.bodies = ByteBudget(limit: configuration.limits.maxBufferedBodyBytes)
        self.limits = configuration.limits.fitting(openFiles: OpenFileLimit.current, descriptorsPerConnection: 1)
        self.connections = ConnectionCounter(limit: limits.maxConnections)
    }

    public func run() async throws {
        // Dependents whose owners are gone (a crash before deletions cascaded in one transaction) go first.
        try await store.collectGarbage()
        await store.acceptWatches()
        let limits = self.limits
        let responder = APIResponder(store: store, configuration: configuration, bodies: bodies, logger: logger)
        let onListening = self.onListening
        let counter = connections
        let refusal = Status(
            message:
                "the API server has its limit of \(limits.maxConnections) connections open; retry",
            reason: "ServiceUnavailable", code: 503)
        let refusalBody = String(decoding: (try? JSONEncoder().encode(refusal)) ?? Data(), as: UTF8.self)
        let limitLogger = logger
        let http1: HTTPServerBuilder = .http1(
            configuration: .init(
                additionalChannelHandlers: [
                    ConnectionLimitHandler<HTTPTypesFlavor>(
                        limits: limits, counter: counter, refusal: ("application/json", refusalBody),
                        onLimit: { event in
                            limitLogger.debug("connection limit", metadata: ["connection.limit": "\(event.rawValue)"])
                        })
                ]))
        var server = http1
        if let tls = configuration.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)
            var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            // NIOSSL waits 5 s by default for a client's close_notify when closing; clients that keep idle
            // connections in a pool (client-go, AsyncHTTPClient) never send one, which held a graceful shutdown for
            // the full 5 s. Go's servers, kube-apiserver's included, do not wait for it at all.
            tlsConfiguration.shutdownTimeout = .milliseconds(200)
            server = try .tls(http1, tlsConfiguration: tlsConfiguration)
        }
        let app = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "starling-apiserver",
                backlog: limits.listenBacklog),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        try await withGracefulShutdownHandler {
            try await app.runService(gracefulShutdownSignals: [])
        } onGracefulShutdown: {
            Task { await store.closeAllWatches() }
        }
    }
}

/// Turns HTTP requests into store calls.
struct APIResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let store: ObjectStore
    let configuration: APIServerConfiguration
    /// Request bodies held by all requests at once.
    let bodies: ByteBudget
    let logger: Logger
    let descriptors: [ResourceDescriptor] = ResourceHandler.all.map(\.descriptor)
    var discovery: Discovery { Discovery(descriptors: descriptors) }

    func respond(to request: Request, context: Context) async throws -> Response {
        // The body this request may bring is reserved against the shared budget before it is read: its declared
        // length, or the most a body may be when it is chunked.
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        let chunked = request.headers[.transferEncoding]?.lowercased().contains("chunked") ?? false
        let reservation = min(declared ?? (chunked ? configuration.maxBodyBytes : 0), configuration.maxBodyBytes)
        guard bodies.reserve(reservation) else {
            var response = Self.json(
                Status(
                    message:
                        "the API server is holding its limit of \(bodies.limit) bytes of request bodies; retry",
                    reason: "TooManyRequests", code: 429), code: 429)
            response.headers[.retryAfter] = "1"
            return response
        }
        defer { bodies.release(reservation) }
        do {
            return try await handle(request)
        } catch let status as Status {
            if status.code ?? 500 >= 500 {
                logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(status)"])
            }
            return Self.json(status, code: status.code ?? 500)
        } catch {
            logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(error)"])
            let status = Status.internalError("\(error)")
            return Self.json(status, code: 500)
        }
    }

    func handle(_ request: Request) async throws -> Response {
        let path = request.uri.path
        let query = Self.queryParameters(request.uri.query)
        guard let parsed = APIRequestPath.parse(path, descriptors: descriptors) else {
            if !authorized(request) { throw Status.unauthorized() }
            throw Status.pathNotFound(path)
        }
        if parsed != .health && !authorized(request) { throw Status.unauthorized() }
        switch parsed {
        case .health:
            return Response(
                status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case .version:
            return Self.json(Discovery.version)
        case .openAPI(let version):
            if version == "v2" {
                if OpenAPIv2.wantsProtobuf(request.headers[.accept]) {
                    return Response(
                        status: .ok, headers: [.contentType: "application/octet-stream"],
                        body: .init(
                            byteBuffer: ByteBuffer(bytes: OpenAPIv2.protobufDocument)))
                }
                return Self.json(OpenAPIv2.json)
            }
            if version == "v3" { return Self.json(discovery.openAPIIndex) }
            guard version.hasPrefix("v3/"), let doc = discovery.openAPIDocument(String(version.dropFirst(3))) else {
                throw Status.pathNotFound(path)
            }
            return Self.json(doc)
        case .apiVersions:
            let host = request.head.authority ?? "\(configuration.host):\(configuration.port)"
            return Self.json(discovery.apiVersions(serverAddress: host))
        case .apiGroupList:
            return Self.json(discovery.apiGroupList)
        case .apiGroup(let group):
            guard let doc = discovery.apiGroup(group) else { throw Status.pathNotFound(path) }
            return Self.json(doc)
        case .resourceList(let group, let version):
            guard let doc = discovery.resourceList(group: group, version: version) else {
                throw Status.pathNotFound(path)
            }
            return Self.json(doc)
        case .resource(let target):
            return try await handleResource(request, target: target, query: query)
        }
    }

    func authorized(_ request: Request) -> Bool {
        guard let token = configuration.token else { return true }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8)
        let expected = Array(token.utf8)
        guard given.count == expected.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(given, expected) { diff |= a ^ b }
        return diff == 0
    }

    func handleResource(
        _ request: Request, target: APIRequestPath.ResourceTarget, query: [String: String]
    ) async throws -> Response {
        let d = target.descriptor
        if query["dryRun"] != nil {
            throw Status.badRequest("dryRun is not supported by the embedded API server")
        }
        switch (request.method, target.name, target.subresource) {
        case (.get, nil, nil):
            let labelSelector = try Self.labelSelector(query)
            let fieldSelector = try Self.fieldSelector(query, kind: d.kind)
            if let watch = query["watch"], watch == "true" || watch == "1" {
                return try await watchResponse(
                    target: target, query: query, labels: labelSelector, fields: fieldSelector)
            }
            var limit: Int?
            if let l = query["limit"] {
                guard let n = Int(l), n >= 0 else { throw Status.badRequest("limit: must be a non-negative integer") }
                limit = n == 0 ? nil : n
            }
            let token = query["continue"].flatMap { $0.isEmpty ? nil : $0 }
            let result = try await store.list(
                d, namespace: target.namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
                limit: limit, continueToken: token)
            if TableResponse.wanted(request.headers[.accept]) {
                let items = try result.items.map { data throws(Status) in try Self.parseStored(data) }
                return Self.json(
                    TableResponse.table(
                        kind: d.kind, items: items, resourceVersion: String(result.resourceVersion),
                        continueToken: result.continueToken))
            }
            return Self.listResponse(d, result)
        case (.get, let name?, nil) where TableResponse.wanted(request.headers[.accept]):
            let object = try Self.parseStored(try await store.get(d, namespace: target.namespace, name: name))
            return Self.json(
                TableResponse.table(kind: d.kind, items: [object], resourceVersion: nil, continueToken: nil))
        case (.get, let name?, nil), (.get, let name?, "status"):
            return Self.raw(try await store.get(d, namespace: target.namespace, name: name))
        case (.get, let name?, "log") where d.kind == "Pod":
            return try await logResponse(
                namespace: target.namespace ?? WellKnown.defaultNamespace, name: name, query: query)
        case (.get, let name?, "scale"):
            return Self.json(try await store.getScale(d, namespace: target.namespace, name: name))
        case (.post, nil, nil):
            let created = try await store.create(d, namespace: target.namespace, body: try await body(request))
            return Self.json(created, code: 201)
        case (.post, let name?, "binding") where d.kind == "Pod":
            try await store.bind(
                namespace: target.namespace ?? WellKnown.defaultNamespace, name: name, body: try await body(request))
            return Self.json(Status.success(), code: 201)
        case (.put, let name?, nil), (.put, let name?, "status"):
            let scope: ObjectStore.UpdateScope = target.subresource == "status" ? .status : .main
            try checkSubresource(d, target.subresource)
            let updated = try await store.update(
                d, namespace: target.namespace, name: name, body: try await body(request), scope: scope)
            return Self.json(updated)
        case (.put, let name?, "scale"):
            return Self.json(
                try await store.updateScale(d, namespace: target.namespace, name: name, body: try await body(request)))
        case (.patch, let name?, let sub):
            let type = try patchType(request)
            let patch = try await body(request)
            if sub == "scale" {
                return Self.json(
                    try await store.patchScale(d, namespace: target.namespace, name: name, patch: patch, type: type))
            }
            try checkSubresource(d, sub)
            let scope: ObjectStore.UpdateScope = sub == "status" ? .status : .main
            return Self.json(
                try await store.patch(
                    d, namespace: target.namespace, name: name, patch: patch, type: type, scope: scope))
        case (.delete, let name?, nil):
            var options = DeleteOptions()
            if let b = try await optionalBody(request) {
                do { options = try b.decode(as: DeleteOptions.self) } catch {
                    throw Status.badRequest("invalid DeleteOptions: \(error)")
                }
            }
            if let g = query["gracePeriodSeconds"] {
                guard let v = Int64(g) else { throw Status.badRequest("gracePeriodSeconds: must be an integer") }
                options.gracePeriodSeconds = v
            }
            if let p = query["propagationPolicy"] { options.propagationPolicy = p }
            let result = try await store.delete(d, namespace: target.namespace, name: name, options: options)
            return Self.json(result)
        case (.delete, nil, nil):
            let labelSelector = try Self.labelSelector(query)
            let result = try await store.list(d, namespace: target.namespace, labelSelector: labelSelector)
            for item in result.items {
                let value = try JSONValue.parse(item)
                if let name = value.value(atPath: "metadata.name")?.stringValue {
                    _ = try? await store.delete(
                        d, namespace: value.value(atPath: "metadata.namespace")?.stringValue, name: name)
                }
            }
            return Self.json(Status.success())
        default:
            throw Status.methodNotAllowed(
                "the server does not allow this method on the requested resource (\(request.method) \(request.uri.path))"
            )
        }
    }

    func logResponse(namespace: String, name: String, query: [String: String]) async throws -> Response {
        _ = try await store.get(Pod.descriptor, namespace: namespace, name: name)
        guard let dir = configuration.podLogDirectory else {
            throw Status.badRequest("pod logs are not available: no node agent log directory is configured")
        }
        let path = "\(dir)/\(namespace)_\(name).log"
        var data = FileManager.default.contents(atPath: path) ?? Data()
        if let tail = query["tailLines"].flatMap(Int.init), tail >= 0 {
            let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let kept = lines.suffix(tail + (data.last == UInt8(ascii: "\n") ? 1 : 0))
            data = Data(kept.joined(separator: [UInt8(ascii: "\n")]))
        }
        let follow = query["follow"] == "true"
        if !follow {
            return Response(
                status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let store = self.store
        let initial = data
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: initial))
            var offset = UInt64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0)
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(200))
                if (try? await store.get(Pod.descriptor, namespace: namespace, name: name)) == nil { break }
                guard let handle = FileHandle(forReadingAtPath: path) else { continue }
                let size = (try? handle.seekToEnd()) ?? 0
                if size < offset { offset = 0 }
                if size > offset {
                    try? handle.seek(toOffset: offset)
                    let chunk = handle.readData(ofLength: Int(size - offset))
                    offset = size
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try? handle.close()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
    }

    func checkSubresource(_ d: ResourceDescriptor, _ sub: String?) throws(Status) {
        if sub == "status" && !d.hasStatus { throw Status.pathNotFound("\(d.plural)/status") }
        if let sub, sub != "status" { throw Status.pathNotFound("\(d.plural)/\(sub)") }
    }

    func patchType(_ request: Request) throws(Status) -> ObjectStore.PatchType {
        let raw = request.headers[.contentType]?.split(separator: ";").first.map {
            String($0).trimmingCharacters(in: .whitespaces)
        }
        guard let raw, let type = ObjectStore.PatchType(rawValue: raw) else {
            throw Status.unsupportedMediaType(
                "the body of the request was in an unknown format - accepted media types include: "
                    + "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
            )
        }
        return type
    }

    func body(_ request: Request) async throws -> JSONValue {
        guard let value = try await optionalBody(request) else { throw Status.badRequest("the request body is empty") }
        return value
    }

    func optionalBody(_ request: Request) async throws -> JSONValue? {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch {
            throw Status(
                message: "the request body is larger than \(configuration.maxBodyBytes) bytes",
                reason: "RequestEntityTooLarge", code: 413)
        }
        if buffer.readableBytes == 0 { return nil }
        let data = Data(buffer.readableBytesView)
        do {
            let value = try JSONValue.parse(data)
            if let problem = StrictJSON.firstProblem(in: buffer.readableBytesView) {
                throw Status.badRequest("strict decoding error: \(problem)")
            }
            return value
        } catch let status as Status {
            throw status
        } catch {
            // kubectl sends JSON; YAML bodies are accepted too as a convenience.
            if let text = String(data: data, encoding: .utf8),
                let docs = try? ManifestDecoder.documents(from: text, source: "body"), docs.count == 1
            {
                return docs[0].value
            }
            throw Status.badRequest("the request body is not valid JSON: \(error)")
        }
    }

    func watchResponse(
        target: APIRequestPath.ResourceTarget, query: [String: String], labels: LabelSelector?, fields: FieldSelector?
    ) async throws -> Response {
        let d = target.descriptor
        let opened: (id: Int, stream: AsyncStream<Data>)
        do {
            opened = try await store.watch(
                d, namespace: target.namespace, resourceVersion: query["resourceVersion"], labelSelector: labels,
                fieldSelector: fields)
        } catch {
            guard error.isGone else { throw error }
            // As kube-apiserver does: the watch opens, then reports the expired version as an ERROR event.
            return Self.raw(watchLine(type: .error, objectData: Self.encoded(error)))
        }
        let id = opened.id
        let stream = opened.stream
        let bookmarks = query["allowWatchBookmarks"] == "true"
        let timeout = query["timeoutSeconds"].flatMap(Int.init).map { Duration.seconds($0) } ?? .seconds(1800)
        let interval = configuration.bookmarkInterval
        let store = self.store
        let body = ResponseBody { writer in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    await store.removeWatcher(id)
                }
                if bookmarks {
                    group.addTask {
                        while !Task.isCancelled {
                            do { try await Task.sleep(for: interval) } catch { return }
                            await store.bookmark(watcherID: id, descriptor: d)
                        }
                    }
                }
                do {
                    for await line in stream {
                        try await writer.write(ByteBuffer(bytes: line))
                    }
                } catch {}
                group.cancelAll()
            }
            await store.removeWatcher(id)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    static func labelSelector(_ query: [String: String]) throws(Status) -> LabelSelector? {
        guard let text = query["labelSelector"] else { return nil }
        do { return try LabelSelector.parse(text) } catch {
            throw Status.badRequest("unable to parse requirement: \(error.message)")
        }
    }

    static func fieldSelector(_ query: [String: String], kind: String) throws(Status) -> FieldSelector? {
        guard let text = query["fieldSelector"] else { return nil }
        do { return try FieldSelector.parse(text, kind: kind) } catch { throw Status.badRequest(error.message) }
    }

    // MARK: Responses

    static func json(_ value: some Encodable, code: Int = 200) -> Response {
        let data = (try? StarlingJSON.encoder.encode(value)) ?? Data("{}".utf8)
        return raw(data, code: code)
    }

    static func encoded(_ value: some Encodable) -> Data {
        (try? StarlingJSON.encoder.encode(value)) ?? Data("{}".utf8)
    }

    static func raw(_ data: Data, code: Int = 200) -> Response {
        Response(
            status: HTTPResponse.Status(code: code), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func parseStored(_ data: Data) throws(Status) -> JSONValue {
        do { return try JSONValue.parse(data) } catch { throw Status.internalError("corrupt stored object") }
    }

    static func listResponse(_ d: ResourceDescriptor, _ result: ObjectStore.ListResult) -> Response {
        var data = Data("{\"apiVersion\":\"\(d.apiVersion)\",\"items\":[".utf8)
        for (i, item) in result.items.enumerated() {
            if i > 0 { data.append(UInt8(ascii: ",")) }
            data.append(item)
        }
        var meta = "\"resourceVersion\":\"\(result.resourceVersion)\""
        if let token = result.continueToken {
            meta += ",\"continue\":\"\(token)\""
        }
        data.append(contentsOf: Array("],\"kind\":\"\(d.listKind)\",\"metadata\":{\(meta)}}".utf8))
        return raw(data)
    }

    /// Parses a query string the way Go's `url.ParseQuery` does ('+' is a space).
    static func queryParameters(_ query: String?) -> [String: String] {
        var result: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }
}
