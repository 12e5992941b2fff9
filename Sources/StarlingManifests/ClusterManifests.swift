import StarlingAPI
import StarlingClient
import StarlingControllers
import StarlingGateway
import Yams

/// Everything a cluster needs to run Starling, as objects a user pipes to `kubectl apply -f -`.
public enum ClusterManifests {
    /// Choices `starling manifests` takes.
    public struct Options: Sendable, Equatable {
        /// The namespace Starling's components run in.
        public var namespace: String
        /// The image holding the `starling` binary.
        public var image: String
        /// Replicas of the gateway Deployment.
        public var gatewayReplicas: Int
        /// Replicas of the operator Deployment (one leads, the others stand by).
        public var operatorReplicas: Int
        /// Whether to include CRDs for the Gateway API Inference Extension's InferencePool, InferenceObjective and
        /// InferenceModelRewrite, for clusters that do not have the Extension's own.
        public var inferenceExtensionCRDs: Bool

        public init(
            namespace: String = "starling-system", image: String = "ghcr.io/starling-serving/starling:latest",
            gatewayReplicas: Int = 2, operatorReplicas: Int = 2, inferenceExtensionCRDs: Bool = false
        ) {
            self.namespace = namespace
            self.image = image
            self.gatewayReplicas = gatewayReplicas
            self.operatorReplicas = operatorReplicas
            self.inferenceExtensionCRDs = inferenceExtensionCRDs
        }
    }

    /// The operator's service account.
    public static let operatorAccount = "starling-operator"
    /// The gateway's service account.
    public static let gatewayAccount = "starling-gateway"

    /// Labels every object carries, so `kubectl get -l app.kubernetes.io/part-of=starling` finds them.
    public static func labels(component: String) -> [String: JSONValue] {
        [
            "app.kubernetes.io/name": .string("starling"), "app.kubernetes.io/component": .string(component),
            "app.kubernetes.io/part-of": .string("starling"),
        ]
    }

    /// The objects, in the order `kubectl apply` needs them (definitions and the namespace first).
    public static func objects(_ options: Options = Options()) throws -> [JSONValue] {
        let ns = options.namespace
        var objects = try CustomResourceDefinitions.all()
        if options.inferenceExtensionCRDs { objects += try CustomResourceDefinitions.inferenceExtension() }
        objects.append(
            .object([
                "apiVersion": .string("v1"), "kind": .string("Namespace"),
                "metadata": .object(["name": .string(ns), "labels": .object(labels(component: "namespace"))]),
            ]))
        objects.append(RBACManifests.serviceAccount(operatorAccount, namespace: ns, component: "operator"))
        objects += RBACManifests.role(
            "starling-operator", namespace: nil, component: "operator",
            accesses: ModelServiceController.apiAccess + ModelServiceController.deviceClaimAccess
                + AutoscalerController.apiAccess,
            subject: operatorAccount, subjectNamespace: ns)
        objects += RBACManifests.role(
            "starling-operator-leader-election", namespace: ns, component: "operator",
            accesses: LeaderElector.apiAccess, subject: operatorAccount, subjectNamespace: ns)
        objects.append(DeploymentManifests.operator(options, serviceAccount: operatorAccount))
        objects.append(RBACManifests.serviceAccount(gatewayAccount, namespace: ns, component: "gateway"))
        objects += RBACManifests.role(
            "starling-gateway", namespace: nil, component: "gateway", accesses: ClusterPoolSource.apiAccess,
            subject: gatewayAccount, subjectNamespace: ns)
        objects += DeploymentManifests.gateway(options, serviceAccount: gatewayAccount)
        return objects
    }

    /// Objects as a multi-document YAML stream, keys sorted so the output is stable.
    public static func yaml(_ objects: [JSONValue]) throws -> String {
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = true
        encoder.options.width = -1
        return try objects.map { "---\n" + (try encoder.encode($0)) }.joined()
    }
}
