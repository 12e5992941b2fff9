import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import StarlingOpenAI
import StarlingTokenizer
import Synchronization

/// `starling model-server`: vLLM's OpenAI-compatible API and metrics in front of a `SimulatedEngine`.
///
/// Run `engine` and the HTTP application (`application(onListening:)`) side by side in one `ServiceGroup`.
public final class ModelServer: Sendable {
    public let configuration: ModelServerConfiguration
    public let engine: SimulatedEngine
    let adapters: LoRARegistry
    let tokenizer = Tokenizer()
    let logger: Logger
    private let counter = Atomic<UInt64>(0)
    /// Aborts non-streaming requests whose client left.
    let closeWatcher = ConnectionCloseWatcher()
    let started = Int(Date().timeIntervalSince1970)
    /// Random per process, so response ids differ between replicas.
    let instanceID = String(UInt64.random(in: 1 << 60..<UInt64.max), radix: 16)

    /// Largest request body accepted (a 128k-token prompt is about 512 KiB of text).
    static let maxBodyBytes = 8 << 20

    public init(configuration: ModelServerConfiguration, logger: Logger = Logger(label: "starling.model-server")) {
        self.configuration = configuration
        self.engine = SimulatedEngine(
            configuration: configuration.engine, timeScale: configuration.timeScale,
            shutdownTimeout: .nanoseconds(Int64((configuration.shutdownTimeoutSeconds * 1e9).rounded())), logger: logger
        )
        self.adapters = LoRARegistry(configuration.loraModules)
        self.logger = logger
    }

    /// The HTTP application; `onListening` gets the bound port.
    public func application(
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(),
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientEOFHandler()])),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "starling-model-server",
                // Linux's somaxconn: Hummingbird's 256 overflowed when a gateway opened thousands of connections at once.
                backlog: 4096),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs the engine and the HTTP front (on the configured port; 0 picks one) for the duration of `body`, which
    /// gets the bound port; stops both afterwards, also when `body` throws. For tests and embedding.
    public func withRunning<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = application { continuation.yield($0) }
        let group = ServiceGroup(services: [engine, app], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let result: T
            do {
                result = try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// A worker host of a multi-host replica: ready at once, serving `/health` until SIGTERM or SIGINT.
    public static func runWorker(host: String, port: Int, logger: Logger) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.get("/health") { _, _ in Response(status: .ok) }
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "starling-model-server-worker"),
            logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    func router() -> Router<ModelServerRequestContext> {
        let router = Router(context: ModelServerRequestContext.self)
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/metrics") { [self] request, _ in
            let names = VLLMMetrics.requestedNames(query: request.uri.query)
            let text = VLLMMetrics(
                modelName: configuration.servedModelNames[0], configuration: configuration.engine,
                timeScale: configuration.timeScale
            ).render(engine.snapshot(), only: names.isEmpty ? nil : names)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/v1/models") { [self] _, _ in Self.json(models()) }
        router.get("/version") { _, _ in Self.json(["version": "starling-sim"]) }
        router.post("/v1/completions") { [self] request, context in
            await handle { try await complete(request, kind: .completion, channel: context.channel) }
        }
        router.post("/v1/chat/completions") { [self] request, context in
            await handle { try await complete(request, kind: .chat, channel: context.channel) }
        }
        router.post("/v1/load_lora_adapter") { [self] request, _ in
            await handle { try await loadAdapter(request) }
        }
        router.post("/v1/unload_lora_adapter") { [self] request, _ in
            await handle { try await unloadAdapter(request) }
        }
        return router
    }

    /// Runs a handler, turning `OpenAIError`s into their JSON responses.
    func handle(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as OpenAIError {
            return Self.error(error)
        } catch {
            return Self.error(OpenAIError(status: 500, message: "\(error)", type: "InternalServerError"))
        }
    }

    static func error(_ error: OpenAIError) -> Response {
        Response(
            status: HTTPResponse.Status(code: error.status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.json)))
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func models() -> [String: Any] {
        let base = configuration.servedModelNames[0]
        var data: [[String: Any]] = configuration.servedModelNames.map { name in
            [
                "id": name, "object": "model", "created": started, "owned_by": "vllm", "root": base,
                "parent": NSNull(), "max_model_len": configuration.engine.profile.contextLength,
            ]
        }
        for adapter in adapters.all {
            data.append([
                "id": adapter.name, "object": "model", "created": started, "owned_by": "vllm", "root": adapter.path,
                "parent": base,
            ])
        }
        return ["object": "list", "data": data]
    }

    /// A fresh number for ids and default seeds.
    func nextNumber() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }

    func readBody(_ request: Request) async throws -> Data {
        var request = request
        return try await readBody(&request)
    }

    /// Reads the body, leaving `request` ready for `consumeWithCancellationOnInboundClose`.
    func readBody(_ request: inout Request) async throws -> Data {
        do {
            let buffer = try await request.collectBody(upTo: Self.maxBodyBytes)
            return Data(buffer: buffer)
        } catch let error where (error as? HTTPError)?.status == .contentTooLarge || error is NIOTooManyBytesError {
            throw OpenAIError(
                status: 413, message: "The request body is larger than \(Self.maxBodyBytes) bytes",
                type: "RequestTooLargeError")
        }
    }

    func loadAdapter(_ request: Request) async throws -> Response {
        let fields = try await adapterFields(request)
        guard let name = fields["lora_name"] as? String, !name.isEmpty,
            let path = fields["lora_path"] as? String, !path.isEmpty
        else {
            throw OpenAIError.badRequest("Both 'lora_name' and 'lora_path' must be provided as non-empty strings.")
        }
        if configuration.servedModelNames.contains(name) {
            throw OpenAIError.badRequest(
                "The lora adapter name '\(name)' is the base model's name.", param: "lora_name")
        }
        guard adapters.load(name: name, path: path) else {
            throw OpenAIError.badRequest("The lora adapter '\(name)' has already been loaded.", param: "lora_name")
        }
        logger.info("loaded LoRA adapter", metadata: ["lora.name": "\(name)", "lora.path": "\(path)"])
        return Response(
            status: .ok, headers: [.contentType: "text/plain"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "Success: LoRA adapter '\(name)' added successfully.")))
    }

    func unloadAdapter(_ request: Request) async throws -> Response {
        let fields = try await adapterFields(request)
        guard let name = fields["lora_name"] as? String, !name.isEmpty else {
            throw OpenAIError.badRequest("'lora_name' must be provided as a non-empty string.", param: "lora_name")
        }
        guard adapters.unload(name: name) else {
            throw OpenAIError(
                status: 404, message: "The lora adapter '\(name)' cannot be found.", type: "NotFoundError",
                param: "lora_name")
        }
        logger.info("unloaded LoRA adapter", metadata: ["lora.name": "\(name)"])
        return Response(
            status: .ok, headers: [.contentType: "text/plain"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "Success: LoRA adapter '\(name)' removed successfully.")))
    }

    private func adapterFields(_ request: Request) async throws -> [String: Any] {
        let body = try await readBody(request)
        guard let object = try? JSONSerialization.jsonObject(with: body), let fields = object as? [String: Any] else {
            throw OpenAIError.badRequest("The request body must be a JSON object")
        }
        return fields
    }
}
