import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient
import StarlingControllers

/// `starling operator`: Starling's controllers against a Kubernetes API server (a real cluster, or `starling up`'s),
/// behind Lease-based leader election so that several replicas can run and one leads.
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Run Starling's controllers against a Kubernetes cluster, with leader election.",
        discussion: """
            Configuration is found as kubectl finds it: --kubeconfig, then $KUBECONFIG, then the pod's service \
            account in a cluster, then ~/.kube/config. The ModelService CRD must be installed \
            (`starling manifests | kubectl apply -f -`).
            """)

    @OptionGroup var cluster: ClusterConnectionOptions

    @Option(help: "Watch only this namespace's ModelServices (default: every namespace).")
    var watchNamespace: String?

    @Option(help: "Namespace of the leader-election Lease (default: the configuration's namespace).")
    var leaseNamespace: String?

    @Option(help: "Name of the leader-election Lease.")
    var leaseName = "starling-operator"

    @Option(help: "This replica's identity in the Lease (default: host name and a random suffix).")
    var identity: String?

    @Flag(inversion: .prefixedNo, help: "Elect a leader (turn off only when a single replica runs).")
    var leaderElect = true

    @Option(help: "Lease duration in seconds (client-go's default).")
    var leaseDuration = 15.0

    @Option(help: "Renew deadline in seconds.")
    var renewDeadline = 10.0

    @Option(help: "Retry period in seconds.")
    var retryPeriod = 2.0

    @Option(help: "Image whose starling binary runs simulated model servers (engine sim).")
    var image = "ghcr.io/starling-serving/starling:latest"

    @Option(help: "Node label holding the accelerator type that spec.accelerators.type is matched against.")
    var acceleratorNodeLabel = PodTemplateOptions.defaultKubernetesAcceleratorLabel

    @OptionGroup var objectLimits: ObjectLimitsOptions

    @Option(help: "Namespace of the gateway pods whose held requests the autoscaler reads (default: the Lease's).")
    var gatewayNamespace: String?

    @Option(help: "Label selector of those gateway pods.")
    var gatewaySelector = "app.kubernetes.io/component=gateway,app.kubernetes.io/part-of=starling"

    @Option(help: "Base URL of a gateway running outside the cluster, whose held requests count too (repeatable).")
    var gatewayURL: [String] = []

    @Option(help: "Address the /healthz and /readyz probes listen on.")
    var healthHost = "0.0.0.0"

    @Option(help: "Port of the /healthz and /readyz probes, 0 for any free one.")
    var healthPort = 8081

    @OptionGroup var log: LogLevelOption

    var timing: LeaderElectionTiming {
        LeaderElectionTiming(
            leaseDuration: .milliseconds(Int64(leaseDuration * 1000)),
            renewDeadline: .milliseconds(Int64(renewDeadline * 1000)),
            retryPeriod: .milliseconds(Int64(retryPeriod * 1000)))
    }

    func validate() throws {
        if let first = timing.errors.first {
            throw ValidationError("--lease-duration/--renew-deadline/--retry-period: \(first)")
        }
        if image.isEmpty { throw ValidationError("--image: must not be empty") }
        do {
            _ = try LabelSelector.parse(gatewaySelector)
        } catch {
            throw ValidationError("--gateway-selector: \(error)")
        }
        for url in gatewayURL where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ValidationError("--gateway-url: expected http://HOST:PORT, got \"\(url)\"")
        }
    }

    func run() async throws {
        let logger = log.logger("starling.operator")
        let config = try cluster.config()
        let client = try KubeClient(config: config, logger: logger, rateLimit: cluster.rateLimit)
        var template = PodTemplateOptions.kubernetes(starlingImage: image, acceleratorNodeLabel: acceleratorNodeLabel)
        // Devices through DRA claims where the cluster serves them; `nvidia.com/gpu` elsewhere. A cluster that
        // cannot be asked is taken to have none (whole devices still work).
        template.deviceClaims = (try? await client.serves(ResourceClaimTemplate.descriptor)) ?? false
        logger.info(
            "accelerators", metadata: ["devices.via": "\(template.deviceClaims ? "DRA claims" : "nvidia.com/gpu")"])
        let planner = ModelServicePlanner(template: template, limits: try objectLimits.limits())
        // Informers outlive leadership terms: a standby keeps warm caches and takes over without relisting.
        let informers = SharedInformers(client: client, logger: logger)
        let controller = ModelServiceController(
            client: client, informers: informers, planner: planner, namespace: watchNamespace, logger: logger)
        // The autoscaler reads replicas' metrics by pod IP and the gateways' held requests from their /metrics.
        let gateways = await informers.informer(
            Pod.self, namespace: gatewayNamespace ?? leaseNamespace ?? config.namespace, labelSelector: gatewaySelector)
        let autoscaler = AutoscalerController(
            client: client, informers: informers,
            signals: ScrapedAutoscaleSignals(
                client: .shared,
                gatewayMetricsURLs: { [gatewayURL] in
                    ScrapedAutoscaleSignals.metricsURLs(of: await gateways.list())
                        + gatewayURL.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + "/metrics" }
                }),
            namespace: watchNamespace, logger: logger.labelled("starling.autoscaler"))
        let elector: LeaderElector? =
            leaderElect
            ? LeaderElector(
                client: client, namespace: leaseNamespace ?? config.namespace, name: leaseName,
                identity: identity ?? LeaderElector.defaultIdentity(), timing: timing, logger: logger)
            : nil
        logger.info(
            "operator starting",
            metadata: [
                "kube.server": "\(config.server)", "operator.leader_elect": "\(leaderElect)",
                "operator.lease": "\(leaseNamespace ?? config.namespace)/\(leaseName)",
            ])
        let service = LeadingService(
            elector: elector,
            lead: {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await controller.run() }
                    group.addTask { try? await autoscaler.run() }
                }
            })
        // A standby is as ready as the leader: it has nothing to serve, and must not be restarted for waiting.
        let probes = ProbeServer(host: healthHost, port: healthPort, ready: { true }, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: informers), .init(service: service), .init(service: probes)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Runs `lead` while `elector` holds its Lease (always, without an elector), until graceful shutdown, when the
/// leader stops its work and releases the Lease.
struct LeadingService: Service {
    let elector: LeaderElector?
    let lead: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            if let elector {
                await elector.run(lead: lead)
            } else {
                await lead()
            }
        }
    }
}
