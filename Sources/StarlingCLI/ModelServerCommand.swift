import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingSimulator

/// `starling model-server`: a vLLM-compatible server backed by the performance model.
struct ModelServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-server",
        abstract: "Serve vLLM's OpenAI-compatible API and metrics from a simulated engine (no GPU needed).",
        discussion: "Profiles: \(ProfileCatalog.names.joined(separator: ", ")). See docs/simulator.md.")

    @Option(help: "Performance profile (model x accelerator); see --list-profiles.")
    var profile: String = ProfileCatalog.llama31_8B_H100.name

    @Flag(help: "List the built-in profiles and exit.")
    var listProfiles = false

    @Flag(help: "Print the calibration table (model vs published figures) and exit.")
    var calibrationReport = false

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free port).")
    var port: Int = 8000

    @Option(help: "Name clients use for the model (repeatable; default: the profile's model id).")
    var servedModelName: [String] = []

    @Option(help: "Most sequences in one batch (default: the profile's).")
    var maxNumSeqs: Int?

    @Option(help: "Most tokens computed in one engine step (default: the profile's).")
    var maxNumBatchedTokens: Int?

    @Option(help: "Tokens per KV-cache block.")
    var blockSize: Int = 16

    @Option(help: "KV-cache blocks, overriding the number derived from the profile's memory.")
    var numGPUBlocks: Int?

    @Flag(inversion: .prefixedNo, help: "Automatic prefix caching (on by default, as in vLLM).")
    var enablePrefixCaching = true

    @Option(help: "LoRA adapters in one batch (default: the profile's).")
    var maxLoras: Int?

    @Option(
        parsing: .upToNextOption,
        help: "LoRA adapters to load at start, as name=path (repeatable, or several after one flag).")
    var loraModules: [String] = []

    @Option(help: "Seed for responses of requests that do not set their own.")
    var seed: UInt64 = 0

    @Option(help: "Run the simulated clock this many times faster than real time (reported times stay simulated).")
    var timeScale: Double = 1

    @Option(
        help: """
            Simulated seconds the server loads before it listens (scaled by --time-scale; default: the profile's, \
            e.g. 82 for llama-3.1-8b-h100, 0 for tiny).
            """)
    var startupSeconds: Double?

    @Option(
        help: """
            Seconds requests already admitted may run after SIGTERM before they are aborted (as vLLM's; 0, the \
            default, aborts them at once).
            """)
    var shutdownTimeout: Double = 0

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Run as a non-leader host of a multi-host replica: serve /health only (the leader serves the model).")
    var worker = false

    func run() async throws {
        if listProfiles {
            print(Self.profileTable())
            return
        }
        if calibrationReport {
            print(Calibration.markdownTable(Calibration.run()))
            return
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: unsupported value \"\(logLevel)\"")
        }
        if worker {
            var logger = Logger(label: "starling.model-server")
            logger.logLevel = level
            try await ModelServer.runWorker(host: host, port: port, logger: logger)
            return
        }
        guard let named = ProfileCatalog.profile(named: profile) else {
            throw ValidationError(
                "--profile: unknown profile \"\(profile)\"; built-in profiles: \(ProfileCatalog.names.joined(separator: ", "))"
            )
        }
        let environment = ProcessInfo.processInfo.environment
        let (chosen, placement) = Self.placed(
            named, accelerator: environment[WellKnown.envAcceleratorType],
            partition: environment[WellKnown.envAcceleratorPartition])
        var engine = EngineConfiguration(profile: chosen, blockSize: blockSize)
        if let maxNumSeqs { engine.maxNumSeqs = maxNumSeqs }
        if let maxNumBatchedTokens { engine.maxNumBatchedTokens = maxNumBatchedTokens }
        if numGPUBlocks != nil || blockSize != 16 {
            engine.numGPUBlocks = numGPUBlocks ?? chosen.numGPUBlocks(blockSize: blockSize)
        }
        engine.enablePrefixCaching = enablePrefixCaching
        if let maxLoras { engine.maxLoras = maxLoras }
        var configuration = ModelServerConfiguration(
            engine: engine, servedModelNames: servedModelName.isEmpty ? nil : servedModelName)
        configuration.host = host
        configuration.port = port
        configuration.seed = seed
        configuration.timeScale = timeScale
        configuration.startupSeconds = startupSeconds
        configuration.shutdownTimeoutSeconds = shutdownTimeout
        configuration.loraModules = try loraModules.map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw ValidationError("--lora-modules: expected name=path, got \"\(entry)\"")
            }
            return (parts[0], parts[1])
        }
        let problems = configuration.validate()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }

        var mutableLogger = Logger(label: "starling.model-server")
        mutableLogger.logLevel = level
        let logger = mutableLogger
        let settings = configuration
        let blocks = engine.numGPUBlocks
        let scale = timeScale
        let server = ModelServer(configuration: settings, logger: logger)
        let app = server.application { port in
            logger.info(
                "model server listening",
                metadata: [
                    "http.port": "\(port)", "sim.profile": "\(chosen.name)", "sim.placement": "\(placement)",
                    "sim.model": "\(settings.servedModelNames[0])",
                    "sim.kv_blocks": "\(blocks)", "sim.time_scale": "\(scale)",
                ])
        }
        if settings.startupDelay > .zero {
            logger.info(
                "loading the model before listening",
                metadata: [
                    "sim.startup_seconds": "\(settings.startupSeconds ?? chosen.startupSeconds)",
                    "sim.startup_wall": "\(settings.startupDelay)",
                ])
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                // The engine last, so it is the first to hear of a shutdown: it refuses new requests and gives the
                // admitted ones --shutdown-timeout before aborting them; then the HTTP server stops.
                services: [
                    .init(service: LoadingDelay(settings.startupDelay, then: app)), .init(service: server.engine),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The profile for the hardware the pod's claims were given (`STARLING_ACCELERATOR_TYPE`/`_PARTITION`, set by
    /// the node agent): the same model's profile for another accelerator where one is built in, and its share of
    /// a MIG partition's compute and memory. A profile of made-up hardware (`tiny`) is kept as it is. Also returns
    /// what was allocated, for the log.
    static func placed(
        _ profile: SimulatorProfile, accelerator: String?, partition: String?
    ) -> (SimulatorProfile, String) {
        let placement = [accelerator, partition].compactMap { $0 }.joined(separator: " ")
        guard let accelerator else { return (profile, placement.isEmpty ? "unspecified" : placement) }
        var chosen = profile.onAccelerator(accelerator) ?? profile
        if let partition, chosen.accelerator == accelerator,
            let mig = MIGProfile.named(partition, for: accelerator)
        {
            chosen = chosen.partitioned(
                partition, computeFraction: Double(mig.computeSlices) / Double(MIGProfile.totalComputeSlices),
                memoryFraction: Double(mig.memorySlices) / Double(MIGProfile.totalMemorySlices))
        }
        return (chosen, placement.isEmpty ? "unspecified" : placement)
    }

    static func profileTable() -> String {
        var rows = [["PROFILE", "MODEL", "ACCELERATOR", "TP", "KV BLOCKS", "MAX SEQS", "DESCRIPTION"]]
        for p in ProfileCatalog.all {
            rows.append([
                p.name, p.model, p.accelerator, String(p.tensorParallelSize), String(p.numGPUBlocks(blockSize: 16)),
                String(p.maxNumSeqs), p.summary,
            ])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }
}
