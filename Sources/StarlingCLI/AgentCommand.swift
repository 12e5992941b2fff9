import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient
import StarlingControllers
import StarlingNodeAgent

/// `starling agent`: Starling's node agent against a Kubernetes API server, as a small kubelet for machines
/// without one: it registers the nodes of a nodes file (accelerators as `nvidia.com/gpu` capacity and a type
/// label), keeps their Leases and Ready condition fresh, and runs the pods kube-scheduler binds to them as local
/// processes, reporting their status, readiness and restarts, and finishing their graceful deletion.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Register nodes with a Kubernetes cluster and run the pods bound to them as local processes.",
        discussion: """
            Configuration is found as kubectl finds it (--kubeconfig, $KUBECONFIG, the pod's service account, \
            ~/.kube/config). Pods run as processes of this machine, each on a loopback address of its own \
            (status.podIP); `starling` in a pod's command is this binary, so engine sim pods run the simulator.
            """)

    @OptionGroup var cluster: ClusterConnectionOptions

    @Option(help: "Nodes file (Node manifests or a `nodes:` inventory); default one simulated node, 8 x H100-80GB.")
    var nodesFile: String?

    @Option(help: "Node label that carries each node's accelerator type.")
    var acceleratorNodeLabel = PodTemplateOptions.defaultKubernetesAcceleratorLabel

    @Option(help: "Directory for pod logs and the agent's state (default: <data dir>/agent).")
    var stateDir: String?

    @OptionGroup var log: LogLevelOption

    func validate() throws {
        if acceleratorNodeLabel.isEmpty { throw ValidationError("--accelerator-node-label: must not be empty") }
    }

    func run() async throws {
        let logger = log.logger("starling.agent")
        let config = try cluster.config()
        let nodes = Self.clusterNodes(
            try nodesFile.map { try NodeInventory.load(path: $0) } ?? NodeInventory.simulatedDefault(),
            acceleratorLabel: acceleratorNodeLabel)
        let client = try KubeClient(config: config, logger: logger, rateLimit: cluster.rateLimit)
        let directory = stateDir ?? "\(DataDirectory.default)/agent"
        let informers = SharedInformers(client: client, logger: logger)
        let agent = NodeAgent(
            client: client,
            configuration: NodeAgentConfiguration(
                nodes: nodes, logDirectory: "\(directory)/logs", runDirectory: "\(directory)/run"),
            informers: informers, logger: logger)
        let registrar = NodeRegistrar(client: client, nodes: nodes, logger: logger)
        logger.info(
            "agent starting",
            metadata: [
                "kube.server": "\(config.server)",
                "agent.nodes": "\(nodes.map(\.metadata.nameOrEmpty).joined(separator: ","))",
            ])
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: informers), .init(service: registrar), .init(service: agent)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The nodes as a Kubernetes cluster needs them: the accelerator type under the cluster's label, and CPU,
    /// memory and pod capacity (kube-scheduler admits no pod to a node without `pods` capacity).
    static func clusterNodes(_ nodes: [Node], acceleratorLabel: String) -> [Node] {
        nodes.map { node in
            var node = node
            if let type = node.metadata.labels?[WellKnown.acceleratorTypeLabel],
                acceleratorLabel != WellKnown.acceleratorTypeLabel
            {
                node.metadata.labels?[acceleratorLabel] = type
            }
            var status = node.status ?? NodeStatus()
            let defaults = ["cpu": "64", "memory": "512Gi", "pods": "110"]
            status.capacity = (status.capacity ?? [:]).merging(defaults) { given, _ in given }
            status.allocatable = (status.allocatable ?? [:]).merging(defaults) { given, _ in given }
            node.status = status
            return node
        }
    }
}
