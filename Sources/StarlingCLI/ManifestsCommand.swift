import ArgumentParser
import StarlingAPI
import StarlingManifests

/// `starling manifests`: what a Kubernetes cluster needs to run Starling, for `kubectl apply -f -`.
struct ManifestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifests",
        abstract: "Print the Kubernetes manifests that install Starling (pipe to `kubectl apply -f -`).")

    @Option(help: "Namespace Starling's components run in.")
    var namespace = ClusterManifests.Options().namespace
    @Option(help: "Image holding the starling binary.")
    var image = ClusterManifests.Options().image
    @Option(help: "Replicas of the gateway Deployment.")
    var gatewayReplicas = ClusterManifests.Options().gatewayReplicas
    @Option(help: "Replicas of the operator Deployment (one leads, the others stand by).")
    var operatorReplicas = ClusterManifests.Options().operatorReplicas
    @Flag(
        help: """
            Include CRDs for the Gateway API Inference Extension's InferencePool, InferenceObjective and \
            InferenceModelRewrite (for clusters without the Extension's own), which the gateway routes.
            """)
    var inferenceExtensionCRDs = false

    func validate() throws {
        let errors = Validation.dnsLabelErrors(namespace, path: "--namespace", maxLength: 63)
        if let first = errors.first { throw ValidationError(first.description) }
        if image.isEmpty { throw ValidationError("--image: must not be empty") }
        if gatewayReplicas < 0 {
            throw ValidationError("--gateway-replicas: Invalid value: \(gatewayReplicas): must be >= 0")
        }
    }

    func run() throws {
        let options = ClusterManifests.Options(
            namespace: namespace, image: image, gatewayReplicas: gatewayReplicas, operatorReplicas: operatorReplicas,
            inferenceExtensionCRDs: inferenceExtensionCRDs)
        print(try ClusterManifests.yaml(try ClusterManifests.objects(options)), terminator: "")
    }
}
