import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import StarlingAPI

/// A change seen by a watch.
public enum WatchUpdate<T: Sendable>: Sendable {
    case added(T)
    case modified(T)
    case deleted(T)
    /// The server has sent everything up to this resourceVersion.
    case bookmark(resourceVersion: String)
    /// A change to an object this build cannot decode; the watch goes on.
    case undecodable(UndecodableObject)
}

/// Patch formats.
public enum PatchType: String, Sendable {
    case merge = "application/merge-patch+json"
    case strategicMerge = "application/strategic-merge-patch+json"
    case json = "application/json-patch+json"
}

/// A Kubernetes REST client on AsyncHTTPClient. It speaks the same protocol to Starling's embedded API server
/// and to a real kube-apiserver.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    let http: HTTPClient
    let tls: TLSConfiguration?
    let logger: Logger
    /// Where requests are recorded as RBAC accesses, when a test asks.
    let accessLog: APIAccessLog?
    /// Paces requests to the client's `RateLimit`, when it has one.
    let limiter: RequestRateLimiter?

    /// One HTTP client for the process, with room for many long-lived watch connections.
    static let sharedHTTP: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.decompression = .disabled
        configuration.timeout = .init(connect: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// `rateLimit`, when given, paces every request (a watch counts once, when it starts), as client-go's QPS and
    /// burst do; without it requests go as fast as they come.
    public init(
        config: KubeConfig, logger: Logger = Logger(label: "starling.client"), accessLog: APIAccessLog? = nil,
        rateLimit: RateLimit? = nil
    ) throws {
        self.config = config
        self.logger = logger
        self.accessLog = accessLog
        self.limiter = rateLimit.map { RequestRateLimiter($0, logger: logger) }
        self.http = Self.sharedHTTP
        if config.server.hasPrefix("https://") {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let ca = config.certificateAuthorityPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca)))
            }
            if let cert = config.clientCertificatePEM, let key = config.clientKeyPEM {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(cert)).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key), format: .pem))
            }
            if config.insecureSkipTLSVerify { tls.certificateVerification = .none }
            self.tls = tls
        } else {
            self.tls = nil
        }
    }

    /// The namespace a namespaced request uses when none is given.
    public var defaultNamespace: String { config.namespace }

    // MARK: Raw requests

    /// Sends a request and returns the body of a 2xx response; anything else throws the server's `Status`.
    public func send(
        _ method: HTTPMethod, path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String = "application/json", timeout: Duration = .seconds(30)
    ) async throws -> Data {
        try await limiter?.wait(for: "\(method.rawValue) \(path)")
        let request = makeRequest(method, path: path, query: query, body: body, contentType: contentType)
        if let accessLog, let access = APIAccess.of(method: method.rawValue, path: path, watch: false) {
            await accessLog.record(access)
        }
        let response = try await http.execute(
            request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        let bytes = try await response.body.collect(upTo: 256 * 1024 * 1024)
        let data = Data(buffer: bytes)
        guard (200..<300).contains(Int(response.status.code)) else {
            var status = Self.status(from: data, code: Int(response.status.code))
            if status.code == 404, status.details?.name == nil, let resource = Self.resource(inPath: path) {
                // Not an object that is missing but a kind the server does not serve at all.
                status.message =
                    "the server at \(config.server) does not serve \(resource): install Starling's "
                    + "CustomResourceDefinitions with `starling manifests | kubectl apply -f -`, or point "
                    + "--kubeconfig or --data-dir at `starling up`'s API server"
            }
            throw status
        }
        return data
    }

    /// The resource a REST path names (`modelservices.starling.dev/v1alpha1`, `pods (v1)`), or nil for other paths.
    static func resource(inPath path: String) -> String? {
        var parts = path.split(separator: "?")[0].split(separator: "/").map(String.init)
        let groupVersion: String
        if parts.first == "api", parts.count >= 3 {
            groupVersion = parts[1]
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 4 {
            groupVersion = "\(parts[1])/\(parts[2])"
            parts.removeFirst(3)
        } else {
            return nil
        }
        if parts.first == "namespaces", parts.count >= 3 { parts.removeFirst(2) }
        guard let plural = parts.first else { return nil }
        let slash = groupVersion.firstIndex(of: "/")
        guard let slash else { return "\(plural) (\(groupVersion))" }
        return "\(plural).\(groupVersion[..<slash])/\(groupVersion[groupVersion.index(after: slash)...])"
    }

    func makeRequest(
        _ method: HTTPMethod, path: String, query: [(String, String)], body: Data?, contentType: String
    ) -> HTTPClientRequest {
        var url = config.server.hasSuffix("/") ? String(config.server.dropLast()) : config.server
        url += path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.tlsConfiguration = tls
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "starling/0.1")
        if let token = config.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(data: body))
        }
        return request
    }

    static func escape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    static func status(from data: Data, code: Int) -> Status {
        if let status = try? JSONDecoder().decode(Status.self, from: data), status.code != nil || status.reason != nil {
            var s = status
            if s.code == nil { s.code = code }
            return s
        }
        let text = String(data: data, encoding: .utf8) ?? ""
        return Status(message: text.isEmpty ? "HTTP \(code)" : text, reason: "HTTP\(code)", code: code)
    }

    func namespaceFor<T: KubernetesResource>(_: T.Type, _ namespace: String?) -> String? {
        namespaceFor(T.descriptor, namespace)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try StarlingJSON.decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Status(
                message: "cannot decode \(T.self): \(ObjectDecoding.fieldError(from: error))", reason: "DecodeError",
                code: 500)
        }
    }

    static func encode(_ value: some Encodable) throws -> Data { try StarlingJSON.encoder.encode(value) }

    // MARK: Typed verbs

    public func get<T: KubernetesResource>(_ type: T.Type, namespace: String? = nil, name: String) async throws -> T {
        let path = T.descriptor.path(namespace: namespaceFor(T.self, namespace), name: name)
        return try Self.decode(T.self, try await send(.GET, path: path))
    }

    /// Lists objects as `list` does, except that objects this build cannot decode are returned apart instead of
    /// failing the whole list (what informers use, so one bad object cannot stall a controller).
    public func listReportingUndecodable<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil
    ) async throws -> (list: ObjectList<T>, undecodable: [UndecodableObject]) {
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        var items: [T] = []
        var undecodable: [UndecodableObject] = []
        var meta = ListMeta()
        repeat {
            var q = query + [("limit", "500")]
            if let c = meta.continue { q.append(("continue", c)) }
            let data = try await send(
                .GET, path: T.descriptor.path(namespace: T.descriptor.namespaced ? namespace : nil), query: q)
            // One decode per page; only a page holding an object this build cannot read is taken item by item.
            if let page = try? StarlingJSON.decoder.decode(ObjectList<T>.self, from: data) {
                items += page.items
                meta = page.metadata
                continue
            }
            let page = try Self.decode(RawList.self, data)
            for raw in page.items {
                do { items.append(try raw.decode(as: T.self)) } catch {
                    undecodable.append(UndecodableObject(raw, error: error))
                }
            }
            meta = page.metadata
        } while meta.continue?.isEmpty == false
        return (ObjectList(metadata: ListMeta(resourceVersion: meta.resourceVersion), items: items), undecodable)
    }

    public func create<T: KubernetesResource>(_ object: T) async throws -> T {
        var object = object
        object.setTypeMeta()
        let path = T.descriptor.path(namespace: namespaceFor(T.self, object.metadata.namespace))
        return try Self.decode(T.self, try await send(.POST, path: path, body: try Self.encode(object)))
    }

    public func update<T: KubernetesResource>(_ object: T) async throws -> T {
        var object = object
        object.setTypeMeta()
        let path = T.descriptor.path(
            namespace: namespaceFor(T.self, object.metadata.namespace), name: object.metadata.nameOrEmpty)
        return try Self.decode(T.self, try await send(.PUT, path: path, body: try Self.encode(object)))
    }

    public func updateStatus<T: KubernetesResource>(_ object: T) async throws -> T {
        var object = object
        object.setTypeMeta()
        let path = T.descriptor.path(
            namespace: namespaceFor(T.self, object.metadata.namespace), name: object.metadata.nameOrEmpty,
            subresource: "status")
        return try Self.decode(T.self, try await send(.PUT, path: path, body: try Self.encode(object)))
    }

    public func patch<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, name: String, patch: JSONValue, patchType: PatchType = .merge,
        subresource: String? = nil
    ) async throws -> T {
        let path = T.descriptor.path(namespace: namespaceFor(T.self, namespace), name: name, subresource: subresource)
        return try Self.decode(
            T.self, try await send(.PATCH, path: path, body: try patch.data(), contentType: patchType.rawValue))
    }

    public func delete<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, name: String, options: DeleteOptions = DeleteOptions()
    ) async throws {
        let path = T.descriptor.path(namespace: namespaceFor(T.self, namespace), name: name)
        _ = try await send(.DELETE, path: path, body: try Self.encode(options))
    }

    public func getScale<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, name: String
    ) async throws -> Scale {
        let path = T.descriptor.path(namespace: namespaceFor(T.self, namespace), name: name, subresource: "scale")
        return try Self.decode(Scale.self, try await send(.GET, path: path))
    }

    public func updateScale<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, name: String, replicas: Int
    ) async throws -> Scale {
        let path = T.descriptor.path(namespace: namespaceFor(T.self, namespace), name: name, subresource: "scale")
        let patch: JSONValue = .object(["spec": .object(["replicas": .int(Int64(replicas))])])
        return try Self.decode(
            Scale.self,
            try await send(.PATCH, path: path, body: try patch.data(), contentType: PatchType.merge.rawValue))
    }

    /// Places a pod on a node through the `binding` subresource; `annotations` are copied onto the pod.
    public func bind(namespace: String, pod: String, node: String, annotations: [String: String] = [:]) async throws {
        let binding = Binding(
            metadata: ObjectMeta(name: pod, namespace: namespace, annotations: annotations.isEmpty ? nil : annotations),
            target: ObjectReference(apiVersion: "v1", kind: "Node", namespace: nil, name: node, uid: nil))
        let path = Pod.descriptor.path(namespace: namespace, name: pod, subresource: "binding")
        _ = try await send(.POST, path: path, body: try Self.encode(binding))
    }

    // MARK: Watch

    /// Watches a kind from `resourceVersion`. The stream ends when the server closes the watch; a 410 (history
    /// expired) or other failure is thrown as a `Status`.
    public func watch<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, resourceVersion: String?, labelSelector: String? = nil,
        fieldSelector: String? = nil, allowBookmarks: Bool = true, timeoutSeconds: Int? = nil
    ) -> AsyncThrowingStream<WatchUpdate<T>, any Error> {
        var query: [(String, String)] = [("watch", "true")]
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        if allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
        if let timeoutSeconds { query.append(("timeoutSeconds", String(timeoutSeconds))) }
        let path = T.descriptor.path(namespace: T.descriptor.namespaced ? namespace : nil)
        let request = makeRequest(.GET, path: path, query: query, body: nil, contentType: "")
        let http = self.http
        let accessLog = self.accessLog
        let limiter = self.limiter
        let (stream, continuation) = AsyncThrowingStream<WatchUpdate<T>, any Error>.makeStream()
        let task = Task {
            do {
                try await limiter?.wait(for: "WATCH \(path)")
                if let accessLog, let access = APIAccess.of(method: "GET", path: path, watch: true) {
                    await accessLog.record(access)
                }
                let response = try await http.execute(request, timeout: .hours(24))
                guard response.status.code == 200 else {
                    let body = try await response.body.collect(upTo: 1024 * 1024)
                    throw Self.status(from: Data(buffer: body), code: Int(response.status.code))
                }
                var pending = Data()
                for try await chunk in response.body {
                    pending.append(contentsOf: chunk.readableBytesView)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = pending[pending.startIndex..<newline]
                        pending = Data(pending[(newline + 1)...])
                        if line.isEmpty { continue }
                        continuation.yield(try Self.decodeWatchLine(Data(line), as: T.self))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// A list page with its items left undecoded.
    struct RawList: Decodable {
        var metadata: ListMeta
        var items: [JSONValue]
    }

    struct RawWatchEvent: Decodable {
        var type: WatchEventType
        var object: JSONValue
    }

    static func decodeWatchLine<T: KubernetesResource>(_ line: Data, as type: T.Type) throws -> WatchUpdate<T> {
        let raw = try decode(RawWatchEvent.self, line)
        switch raw.type {
        case .error:
            let status = (try? raw.object.decode(as: Status.self)) ?? Status.internalError("watch error")
            throw status
        case .bookmark:
            return .bookmark(resourceVersion: raw.object.value(atPath: "metadata.resourceVersion")?.stringValue ?? "")
        case .added, .modified, .deleted:
            let object: T
            do { object = try raw.object.decode(as: T.self) } catch {
                return .undecodable(UndecodableObject(raw.object, error: error, deleted: raw.type == .deleted))
            }
            switch raw.type {
            case .added: return .added(object)
            case .modified: return .modified(object)
            default: return .deleted(object)
            }
        }
    }
}
