import ArgumentParser
import StarlingClient

/// How the Kubernetes-mode commands (`operator`, `agent`, `gateway --from-cluster`) find their API server: as
/// kubectl does — `--kubeconfig`, then `$KUBECONFIG`, then the pod's service account, then `~/.kube/config`.
struct ClusterConnectionOptions: ParsableArguments {
    @Option(help: "Path to a kubeconfig file.")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use (default: its current context).")
    var context: String?

    /// The configuration found, or an error naming what was tried.
    func config() throws -> KubeConfig {
        do { return try KubeConfig.resolve(path: kubeconfig, context: context) } catch { throw CLIError("\(error)") }
    }
}
