import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StarlingClient
import StarlingGateway
import StarlingServerLimits

/// `starling gateway`: the inference gateway on its own, in front of model servers given by flags or a file.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Route OpenAI-compatible requests to the model server that will answer fastest.",
        discussion: """
            Endpoints come from --endpoint flags (one pool) or a configuration file with Gateway, InferencePool, \
            InferenceObjective and InferenceModelRewrite documents (see docs/gateway.md). Policies: \
            \(RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", ")).
            """)

    @Option(help: "Configuration file (YAML or JSON).")
    var config: String?

    @Flag(
        help: """
            Discover pools from a Kubernetes API server: one per ModelService (its Ready leader pods at \
            status.podIP and the container port named http) and one per InferencePool (its Ready pods at each \
            target port), with InferenceObjectives and InferenceModelRewrites, followed by watch.
            """)
    var fromCluster = false

    @OptionGroup(title: "With --from-cluster") var cluster: ClusterConnectionOptions

    @Option(help: "With --from-cluster, watch only this namespace (default: every namespace).")
    var watchNamespace: String?

    @Option(help: "Model server base URL, http://HOST:PORT (repeatable); added to --pool.")
    var endpoint: [String] = []

    @Option(help: "Pool the --endpoint flags go to (default: the file's only pool, or \"default\").")
    var pool: String?

    @Option(help: "Routing policy for every pool, overriding the file.")
    var policy: String?

    @Option(help: "Address to listen on (overrides the file).")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free one (overrides the file; default 8080).")
    var port: Int?

    @Option(help: "How often to read each endpoint's /metrics, e.g. 50ms.")
    var scrapeInterval: String?

    @Option(help: "Threads for connections and scrapes (default 1; raise for thousands of requests/s).")
    var eventLoops: Int?

    @Option(help: "Largest request body in bytes; larger ones get 413.")
    var maxBodyBytes: Int?

    @Option(help: "Longest wait for an endpoint's response head before a 504, e.g. 600s.")
    var upstreamTimeout: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: unsupported value \"\(logLevel)\"")
        }
        let configuration = try makeConfiguration()
        // Connection caps, not EMFILE, should bound the gateway: raise the soft open-file limit to the hard one.
        OpenFileLimit.raiseSoftToHard()
        var mutableLogger = Logger(label: "starling.gateway")
        mutableLogger.logLevel = level
        let logger = mutableLogger
        let gateway = Gateway(configuration: configuration, logger: logger)
        var discovery: [any Service] = []
        if fromCluster || cluster.kubeconfig != nil {
            let kube = try cluster.config()
            let client = try KubeClient(config: kube, logger: logger, rateLimit: cluster.rateLimit)
            let informers = SharedInformers(client: client, logger: logger)
            discovery = [
                informers,
                ClusterPoolSource(
                    client: client, gateway: gateway, informers: informers, namespace: watchNamespace, logger: logger),
            ]
            logger.info("discovering pools", metadata: ["kube.server": "\(kube.server)"])
        }
        let host = configuration.host
        let pools = configuration.pools.map {
            "\($0.settings.name) (\($0.settings.profile.name), \($0.endpoints.count) endpoints)"
        }
        let services = gateway.services { port in
            logger.info(
                "gateway listening",
                metadata: ["http.url": "http://\(host):\(port)", "gateway.pools": "\(pools.joined(separator: ", "))"])
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: (discovery + services).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            try? await gateway.shutdown()
            throw error
        }
        try await gateway.shutdown()
    }

    func makeConfiguration() throws -> GatewayConfiguration {
        var configuration: GatewayConfiguration
        if let config {
            do {
                configuration = try GatewayConfiguration.load(path: config)
            } catch {
                throw ValidationError(error.message)
            }
        } else {
            guard !endpoint.isEmpty || fromCluster || cluster.kubeconfig != nil else {
                throw ValidationError(
                    "give model servers with --endpoint http://HOST:PORT, a --config file, or --from-cluster")
            }
            configuration = GatewayConfiguration(pools: [])
        }
        if !endpoint.isEmpty {
            let addresses = try endpoint.map { text in
                do {
                    return try EndpointAddress(parsing: text)
                } catch let error as GatewayConfigurationError {
                    throw ValidationError("--endpoint: \(error.message)")
                }
            }
            let name: String
            if let pool {
                name = pool
            } else if configuration.pools.count == 1 {
                name = configuration.pools[0].settings.name
            } else if configuration.pools.isEmpty {
                name = "default"
            } else {
                let names = configuration.pools.map(\.settings.name).joined(separator: ", ")
                throw ValidationError("--endpoint: the file has several pools (\(names)); choose one with --pool")
            }
            if let i = configuration.pools.firstIndex(where: { $0.settings.name == name }) {
                configuration.pools[i].endpoints += addresses
            } else {
                configuration.pools.append(.init(settings: PoolSettings(name: name), endpoints: addresses))
            }
        } else if pool != nil {
            throw ValidationError("--pool: only meaningful with --endpoint")
        }
        if let policy {
            guard let ready = RoutingPolicy(rawValue: policy) else {
                let allowed = RoutingPolicy.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--policy: unsupported value \"\(policy)\"; allowed: \(allowed)")
            }
            for i in configuration.pools.indices { configuration.pools[i].settings.profile = ready.profile() }
        }
        if let host { configuration.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port: must be 0-65535, got \(port)") }
            configuration.port = port
        }
        if let scrapeInterval {
            guard let d = DurationText.parse(scrapeInterval), d > .zero else {
                throw ValidationError("--scrape-interval: expected a duration such as 50ms, got \"\(scrapeInterval)\"")
            }
            configuration.scrapeInterval = d
        }
        if let upstreamTimeout {
            guard let d = DurationText.parse(upstreamTimeout), d > .zero else {
                throw ValidationError(
                    "--upstream-timeout: expected a duration such as 600s, got \"\(upstreamTimeout)\"")
            }
            configuration.upstreamTimeout = d
        }
        if let eventLoops {
            guard (1...GatewayConfiguration.maxEventLoops).contains(eventLoops) else {
                throw ValidationError(
                    "--event-loops: must be 1-\(GatewayConfiguration.maxEventLoops), got \(eventLoops)")
            }
            configuration.eventLoops = eventLoops
        }
        if let maxBodyBytes {
            guard maxBodyBytes > 0 else {
                throw ValidationError("--max-body-bytes: must be positive, got \(maxBodyBytes)")
            }
            configuration.maxBodyBytes = maxBodyBytes
        }
        return configuration
    }
}
