import ArgumentParser
import StarlingClient

/// How the Kubernetes-mode commands (`operator`, `agent`, `gateway --from-cluster`) find their API server: as
/// kubectl does — `--kubeconfig`, then `$KUBECONFIG`, then the pod's service account, then `~/.kube/config`.
struct ClusterConnectionOptions: ParsableArguments {
    @Option(help: "Path to a kubeconfig file.")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use (default: its current context).")
    var context: String?

    @Option(
        name: .customLong("kube-api-qps"),
        help: ArgumentHelp(
            "Requests a second to the API server on average (client-side throttling, as client-go's QPS).",
            valueName: "qps"))
    var kubeAPIQPS: Double = RateLimit.componentDefault.qps

    @Option(
        name: .customLong("kube-api-burst"),
        help: ArgumentHelp("Requests sent at once after a quiet spell.", valueName: "n"))
    var kubeAPIBurst: Int = RateLimit.componentDefault.burst

    func validate() throws {
        guard kubeAPIQPS > 0, kubeAPIQPS.isFinite else {
            throw ValidationError("--kube-api-qps: Invalid value: \(kubeAPIQPS): must be a positive number")
        }
        guard kubeAPIBurst >= 1 else {
            throw ValidationError("--kube-api-burst: Invalid value: \(kubeAPIBurst): must be >= 1")
        }
    }

    /// The client-side rate limit the flags give.
    var rateLimit: RateLimit { RateLimit(qps: kubeAPIQPS, burst: kubeAPIBurst) }

    /// The configuration found, or an error naming what was tried.
    func config() throws -> KubeConfig {
        do { return try KubeConfig.resolve(path: kubeconfig, context: context) } catch { throw CLIError("\(error)") }
    }
}
