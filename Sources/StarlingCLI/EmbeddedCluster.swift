import Foundation
import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingAPIServer
import StarlingClient
import StarlingControllers
import StarlingGateway
import StarlingNodeAgent
import StarlingScheduler

#if canImport(Glibc)
import Glibc
#endif

/// Everything `starling up` runs in one process: API server (SQLite), ModelService controller, scheduler and
/// node agent, as services of one `ServiceGroup`.
public struct EmbeddedCluster {
    public struct Options: Sendable {
        public var dataDirectory: String
        public var apiPort: Int
        public var nodes: [Node]
        public var manifests: [String]
        public var logLevel: Logger.Level
        /// The gateway's port on 127.0.0.1 (0 picks one); nil runs no gateway.
        public var gatewayPort: Int?
        /// Apply the quickstart demo when no ModelService exists yet.
        public var demo: Bool
        /// Ceilings on what one object may ask for.
        public var limits: ObjectLimits
        /// How the autoscaler decides (the HPA's only as a benchmark baseline).
        public var autoscalerAlgorithm: Autoscaler.Algorithm

        public init(
            dataDirectory: String, apiPort: Int, nodes: [Node], manifests: [String], logLevel: Logger.Level = .info,
            gatewayPort: Int? = nil, demo: Bool = false, limits: ObjectLimits = .default,
            autoscalerAlgorithm: Autoscaler.Algorithm = .starling
        ) {
            self.limits = limits
            self.autoscalerAlgorithm = autoscalerAlgorithm
            self.dataDirectory = dataDirectory
            self.apiPort = apiPort
            self.nodes = nodes
            self.manifests = manifests
            self.logLevel = logLevel
            self.gatewayPort = gatewayPort
            self.demo = demo
        }
    }

    public let options: Options
    let logger: Logger

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    var kubeconfigPath: String { "\(options.dataDirectory)/kubeconfig" }

    /// Runs until SIGINT or SIGTERM.
    public func run() async throws {
        let dir = options.dataDirectory
        // Owner-only when Starling makes it: it holds the store, the token, the key and the kubeconfig (each of
        // which is 0600 itself, so a directory the user chose keeps its mode).
        if !FileManager.default.fileExists(atPath: dir) {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try Self.checkListenable(options.apiPort, flag: "--api-port")
        if let gatewayPort = options.gatewayPort { try Self.checkListenable(gatewayPort, flag: "--gateway-port") }
        let token = try Self.loadOrCreateToken(at: "\(dir)/token")
        let port = options.apiPort == 0 ? try Self.freePort() : options.apiPort
        let tls = try ServingCertificate.ensure(in: dir, logger: logger)
        let server = "https://localhost:\(port)"
        try Self.writePrivate(
            KubeConfig.document(server: server, token: token, certificateAuthorityPEM: tls.certificatePEM),
            to: kubeconfigPath)

        let store = try ObjectStore(
            path: "\(dir)/state.db", limits: options.limits, logger: logger.labelled("starling.store"))
        let (listening, listeningContinuation) = AsyncStream<Int>.makeStream()
        let apiServer = APIServer(
            store: store,
            configuration: APIServerConfiguration(
                port: port, token: token, tls: (tls.certificatePath, tls.keyPath),
                podLogDirectory: "\(dir)/logs"),
            logger: logger.labelled("starling.apiserver"),
            onListening: { listeningContinuation.yield($0) })
        // The in-process components use the same HTTPS listener as users and kubectl, trusting the same CA.
        let client = try KubeClient(
            config: KubeConfig(server: server, token: token, certificateAuthorityPEM: tls.certificatePEM),
            logger: logger.labelled("starling.client"))
        // One informer per kind for every component in the process; shut down after them (the group stops its
        // services in reverse order), before the API server.
        let informers = SharedInformers(client: client, logger: logger.labelled("starling.informers"))
        let agent = NodeAgent(
            client: client,
            configuration: NodeAgentConfiguration(
                nodes: options.nodes, logDirectory: "\(dir)/logs", runDirectory: "\(dir)/run"),
            informers: informers, logger: logger.labelled("starling.agent"))
        func reported(_ name: String, _ service: any Service) -> ServiceGroupConfiguration.ServiceConfiguration {
            .init(service: ReportedService(name: name, service: service, logger: logger))
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            reported("apiserver", apiServer),
            reported("informers", informers),
            reported(
                "controller",
                ModelServiceController(
                    client: client, informers: informers, logger: logger.labelled("starling.controller"))),
            reported(
                "claims",
                ResourceClaimController(
                    client: client, informers: informers, logger: logger.labelled("starling.controller.claims"))),
            reported(
                "scheduler",
                SchedulerService(client: client, informers: informers, logger: logger.labelled("starling.scheduler"))),
            reported("agent", agent),
        ]
        let (gatewayListening, gatewayContinuation) = AsyncStream<Int>.makeStream()
        var gateway: Gateway?
        if let gatewayPort = options.gatewayPort {
            var configuration = GatewayConfiguration(pools: [])
            configuration.port = gatewayPort
            let made = Gateway(configuration: configuration, logger: logger.labelled("starling.gateway"))
            services += made.services { gatewayContinuation.yield($0) }.map { reported("gateway.\(type(of: $0))", $0) }
            services.append(
                reported(
                    "gateway.source",
                    ClusterPoolSource(
                        client: client, gateway: made, informers: informers,
                        logger: logger.labelled("starling.gateway.source"))))
            // The autoscaler reads the gateway's scrapes and held requests directly.
            services.append(
                reported(
                    "autoscaler",
                    AutoscalerController(
                        client: client, informers: informers, signals: GatewayAutoscaleSignals(gateway: made),
                        algorithm: options.autoscalerAlgorithm, logger: logger.labelled("starling.autoscaler"))))
            gateway = made
        } else {
            gatewayContinuation.finish()
            logger.notice(
                "no gateway: ModelServices with spec.autoscaling keep their replicas (the autoscaler reads the gateway's signals)"
            )
        }
        let bootstrap = Bootstrap(
            client: client, nodes: options.nodes, manifests: options.manifests, demo: options.demo,
            dataDirectory: dir, listening: listening, gatewayListening: gatewayListening, server: server,
            kubeconfig: kubeconfigPath, logger: logger)
        services.append(.init(service: bootstrap, successTerminationBehavior: .ignore))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await gateway?.shutdown()
            throw error
        }
        try await gateway?.shutdown()
    }

    static func loadOrCreateToken(at path: String) throws -> String {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let t = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.count >= 32 { return t }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        let fd = open("/dev/urandom", O_RDONLY)
        guard fd >= 0, read(fd, &bytes, 32) == 32 else { throw CLIError("cannot read /dev/urandom for a token") }
        close(fd)
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        try writePrivate(token + "\n", to: path)
        return token
    }

    /// Writes a file readable by the owner only (mode 0600).
    static func writePrivate(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot write \(path): errno \(errno)") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let data = Array(text.utf8)
        guard write(fd, data, data.count) == data.count else { throw CLIError("cannot write \(path)") }
    }

    /// Fails with a message naming the port, the cause and the flag when a port cannot be listened on, so that a
    /// taken port stops `starling up` at once instead of after the other components started.
    static func checkListenable(_ port: Int, flag: String) throws {
        guard port != 0, let error = LocalPort.bindError(port: port) else { return }
        if error == EADDRINUSE {
            throw CLIError(
                "port \(port) on 127.0.0.1 is in use (another program, or a starling up still running); "
                    + "pass \(flag) with another port, or \(flag) 0 to pick a free one")
        }
        if error == EACCES {
            throw CLIError(
                "port \(port) on 127.0.0.1 needs privileges to listen on; pass \(flag) with a port above 1023")
        }
        throw CLIError("cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(error))); pass \(flag)")
    }

    /// A port that is free on 127.0.0.1 now.
    static func freePort() throws -> Int {
        guard let port = LocalPort.free() else { throw CLIError("cannot find a free port on 127.0.0.1") }
        return port
    }
}

/// Registers nodes and applies manifests once the API server listens, then prints where things are.
struct Bootstrap: Service {
    let client: KubeClient
    let nodes: [Node]
    let manifests: [String]
    let demo: Bool
    let dataDirectory: String
    let listening: AsyncStream<Int>
    let gatewayListening: AsyncStream<Int>
    let server: String
    let kubeconfig: String
    let logger: Logger

    func run() async throws {
        do {
            try await bootstrap()
        } catch {
            logger.critical("start-up failed", metadata: ["error": "\(error)"])
            throw error
        }
    }

    func bootstrap() async throws {
        for await _ in listening { break }
        for node in nodes { try await register(node) }
        try await publishDevices()
        var lines: [String] = []
        for file in manifests {
            lines += try await Applier(client: client).apply(file: file)
        }
        if demo, try await client.list(ModelService.self).items.isEmpty {
            lines += try await Applier(client: client).apply(text: Quickstart.manifest, source: "quickstart demo")
        }
        var gatewayPort: Int?
        for await port in gatewayListening {
            gatewayPort = port
            break
        }
        var gatewayLines: [String] = []
        if let gatewayPort {
            let url = "http://127.0.0.1:\(gatewayPort)"
            let model = try await client.list(ModelService.self).items.first?.spec.model ?? "MODEL"
            gatewayLines = [
                "  Gateway:     \(url)   (OpenAI API: /v1/completions, /v1/chat/completions, /v1/models, /metrics)",
                "  Stream:      curl -N \(url)/v1/chat/completions -H 'content-type: application/json' -d '"
                    + #"{"model":"\#(model)","messages":[{"role":"user","content":"Hello!"}],"max_tokens":40,"stream":true}'"#,
            ]
        }
        let out =
            [
                "Starling is up.",
                "  API server:  \(server)   (kubeconfig: \(kubeconfig))",
                "  Nodes:       "
                    + nodes.map {
                        "\($0.metadata.nameOrEmpty) (\($0.acceleratorCount) x \($0.acceleratorType ?? "none"))"
                    }
                    .joined(separator: ", "),
            ] + gatewayLines + [
                "  Try:         starling get modelservices    |    kubectl --kubeconfig \(kubeconfig) get pods"
            ] + lines.map { "  \($0)" }
        FileHandle.standardOutput.write(Data((out.joined(separator: "\n") + "\n").utf8))
    }

    /// Publishes the nodes' accelerators as ResourceSlices, and the DeviceClasses claims ask for them by.
    func publishDevices() async throws {
        for deviceClass in GPUInventory.deviceClasses() {
            do {
                _ = try await client.create(deviceClass)
            } catch let status as Status where status.isConflict {
                var existing = try await client.get(DeviceClass.self, name: deviceClass.metadata.nameOrEmpty)
                existing.spec = deviceClass.spec
                _ = try await client.update(existing)
            }
        }
        try await ResourceSlicePublisher(client: client, logger: logger).publish(nodes)
    }

    /// Creates the node or brings its labels and capacity up to date.
    func register(_ node: Node) async throws {
        do {
            var existing = try await client.get(Node.self, name: node.metadata.nameOrEmpty)
            existing.metadata.labels = node.metadata.labels
            existing.metadata.annotations = node.metadata.annotations
            existing = try await client.update(existing)
            existing.status = node.status
            _ = try await client.updateStatus(existing)
        } catch let status as Status where status.isNotFound {
            let created = try await client.create(node)
            var withStatus = created
            withStatus.status = node.status
            _ = try await client.updateStatus(withStatus)
        }
    }
}

extension Logger {
    /// A copy of this logger with another label but the same level.
    func labelled(_ label: String) -> Logger {
        var l = Logger(label: label)
        l.logLevel = logLevel
        return l
    }
}

/// An error the CLI prints as it is.
public struct CLIError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
