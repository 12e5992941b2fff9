import StarlingAPI

/// What differs between the pods Starling makes for its embedded cluster and for a Kubernetes cluster; everything
/// else about a group's pods is one template.
public struct PodTemplateOptions: Sendable, Equatable {
    /// The scheduler that places the pods; nil for the cluster's default (kube-scheduler).
    public var schedulerName: String?
    /// The node label holding a node's accelerator type, matched against `spec.accelerators.type`.
    public var acceleratorNodeLabel: String
    /// The image that runs `starling model-server` for engine `sim`; nil where the node agent runs the binary
    /// itself (embedded mode).
    public var starlingImage: String?
    /// Whether pods get their devices through DRA claims (the API server serves `resource.k8s.io/v1`); otherwise
    /// whole devices are asked for as the `nvidia.com/gpu` extended resource and partitions cannot be.
    public var deviceClaims: Bool

    public init(
        schedulerName: String?, acceleratorNodeLabel: String, starlingImage: String?, deviceClaims: Bool = false
    ) {
        self.schedulerName = schedulerName
        self.acceleratorNodeLabel = acceleratorNodeLabel
        self.starlingImage = starlingImage
        self.deviceClaims = deviceClaims
    }

    /// Starling's own cluster: its gang scheduler, its node labels, local processes.
    public static let embedded = PodTemplateOptions(
        schedulerName: WellKnown.schedulerName, acceleratorNodeLabel: WellKnown.acceleratorTypeLabel,
        starlingImage: nil, deviceClaims: true)

    /// The label NVIDIA's GPU feature discovery puts on nodes (`NVIDIA-H100-80GB-HBM3`).
    public static let defaultKubernetesAcceleratorLabel = "nvidia.com/gpu.product"

    /// A Kubernetes cluster: kube-scheduler, the accelerator label of the cluster's device plugin, and the Starling
    /// image for simulated servers.
    public static func kubernetes(
        starlingImage: String, acceleratorNodeLabel: String = defaultKubernetesAcceleratorLabel
    ) -> PodTemplateOptions {
        PodTemplateOptions(schedulerName: nil, acceleratorNodeLabel: acceleratorNodeLabel, starlingImage: starlingImage)
    }
}
