import ArgumentParser
import Foundation
import Logging
import StarlingAPI
import StarlingControllers
import StarlingServerLimits

/// `starling up`: the embedded control plane in the foreground.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract:
            "Run the API server, controllers, scheduler, node agent and gateway on this machine, in the foreground.",
        discussion: """
            With no -f and no ModelService yet, serves a demo (examples/quickstart.yaml: two replicas of a simulated \
            Llama-3.1-8B) through the gateway, and prints the gateway's URL and a curl that streams tokens.
            """)

    @Option(name: [.short, .customLong("filename")], help: "Manifests to apply once up (YAML or JSON; repeatable).")
    var files: [String] = []

    @Option(
        help:
            "Nodes file (Node manifests or a `nodes:` inventory). Default: real GPUs from nvidia-smi, else one simulated node with 8 x H100-80GB."
    )
    var nodes: String?

    @Option(help: "Where state, logs and the kubeconfig live (default: $STARLING_DATA_DIR or ~/.starling).")
    var dataDir: String?

    @Option(help: "API server port on 127.0.0.1 (0 picks a free port).")
    var apiPort: Int = 7443

    @Option(help: "Gateway port on 127.0.0.1 (0 picks a free port).")
    var gatewayPort: Int = 8080

    @Flag(help: "Run without the gateway.")
    var noGateway = false

    @Flag(help: "Do not apply the quickstart demo (applied when no -f is given and no ModelService exists).")
    var noDemo = false

    @OptionGroup var objectLimits: ObjectLimitsOptions

    @Option(
        help: ArgumentHelp(
            "The autoscaler's algorithm: starling, or hpa (a HorizontalPodAutoscaler's, every 15 s: a baseline "
                + "for benchmarks).", valueName: "algorithm"))
    var autoscalerAlgorithm = Autoscaler.Algorithm.starling.rawValue

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError(
                "--log-level: unsupported value \"\(logLevel)\": use trace, debug, info, notice, warning, error or critical"
            )
        }
        guard (0...65535).contains(apiPort) else { throw ValidationError("--api-port: must be between 0 and 65535") }
        guard (0...65535).contains(gatewayPort) else {
            throw ValidationError("--gateway-port: must be between 0 and 65535")
        }
        let limits = try objectLimits.limits()
        guard let algorithm = Autoscaler.Algorithm(rawValue: autoscalerAlgorithm) else {
            throw ValidationError(
                "--autoscaler-algorithm: unsupported value \"\(autoscalerAlgorithm)\": use "
                    + Autoscaler.Algorithm.allCases.map(\.rawValue).joined(separator: " or "))
        }
        let nodeList: [Node]
        if let nodes {
            nodeList = try NodeInventory.load(path: nodes)
        } else {
            nodeList = NodeInventory.detectGPUs() ?? NodeInventory.simulatedDefault()
        }
        for file in files where file != "-" && !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("-f \(file): no such file")
        }
        var logger = Logger(label: "starling")
        logger.logLevel = level
        // Connection caps, not EMFILE, should bound the servers: raise the soft open-file limit to the hard one.
        logger.debug("open-file limit", metadata: ["process.open_files": "\(OpenFileLimit.raiseSoftToHard())"])
        let options = EmbeddedCluster.Options(
            dataDirectory: dataDir ?? DataDirectory.default, apiPort: apiPort, nodes: nodeList, manifests: files,
            logLevel: level, gatewayPort: noGateway ? nil : gatewayPort, demo: files.isEmpty && !noDemo,
            limits: limits, autoscalerAlgorithm: algorithm)
        try await EmbeddedCluster(options: options, logger: logger).run()
    }
}
