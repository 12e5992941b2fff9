/// Everything `starling model-server` is started with.
public struct ModelServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8000
    /// Names clients use for the base model; the first is reported in metrics.
    public var servedModelNames: [String]
    public var engine: EngineConfiguration
    /// Simulated seconds per wall-clock second.
    public var timeScale = 1.0
    /// Seeds responses of requests without their own `seed`.
    public var seed: UInt64 = 0
    /// Adapters loaded at start (`--lora-modules name=path`).
    public var loraModules: [(name: String, path: String)] = []
    /// Seconds requests already admitted may run after SIGTERM before they are aborted (vLLM's
    /// `--shutdown-timeout`; 0, the default, aborts them at once).
    public var shutdownTimeoutSeconds = 0.0
    /// Simulated seconds before the server listens (a model loading); nil: the profile's `startupSeconds`.
    public var startupSeconds: Double?

    /// How long, in wall-clock time, the server loads before it listens.
    public var startupDelay: Duration {
        let simulated = startupSeconds ?? engine.profile.startupSeconds
        return .nanoseconds(Int64((simulated / timeScale * 1e9).rounded()))
    }

    public init(engine: EngineConfiguration, servedModelNames: [String]? = nil) {
        self.engine = engine
        self.servedModelNames = servedModelNames ?? [engine.profile.model]
    }

    /// Problems with the options, each naming the option.
    public func validate() -> [String] {
        var problems = engine.validate()
        if !(timeScale > 0 && timeScale.isFinite) { problems.append("--time-scale must be positive, got \(timeScale)") }
        if !(shutdownTimeoutSeconds >= 0 && shutdownTimeoutSeconds.isFinite) {
            problems.append("--shutdown-timeout must be 0 or more, got \(shutdownTimeoutSeconds)")
        }
        if let startupSeconds, !(startupSeconds >= 0 && startupSeconds.isFinite) {
            problems.append("--startup-seconds must be 0 or more, got \(startupSeconds)")
        }
        if !(0...65535).contains(port) { problems.append("--port must be between 0 and 65535, got \(port)") }
        if servedModelNames.isEmpty || servedModelNames.contains(where: \.isEmpty) {
            problems.append("--served-model-name must not be empty")
        }
        var seen = Set(servedModelNames)
        for module in loraModules {
            if module.name.isEmpty || module.path.isEmpty {
                problems.append("--lora-modules entries are name=path, got \"\(module.name)=\(module.path)\"")
            } else if !seen.insert(module.name).inserted {
                problems.append("--lora-modules name \"\(module.name)\" is used twice or clashes with the model name")
            }
        }
        return problems
    }
}
