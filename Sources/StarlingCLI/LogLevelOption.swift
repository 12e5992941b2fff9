import ArgumentParser
import Logging

/// `--log-level` for the long-running Kubernetes-mode commands (`operator`, `agent`).
struct LogLevelOption: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level: unsupported value \"\(logLevel)\"")
        }
    }

    /// A logger labelled `label` at the chosen level.
    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }
}
