/// Label, annotation and resource names Starling writes and reads.
public enum WellKnown {
    public static let group = "starling.dev"
    /// The Gateway API Inference Extension's stable group (`InferencePool`).
    public static let inferenceGroup = "inference.networking.k8s.io"
    /// Dynamic Resource Allocation's group (`resource.k8s.io/v1`).
    public static let resourceGroup = "resource.k8s.io"
    /// The Inference Extension's experimental group (`InferenceObjective`, `InferenceModelRewrite`).
    public static let inferenceExperimentalGroup = "inference.networking.x-k8s.io"
    /// Extended resource name for whole accelerators on a node.
    public static let acceleratorResource = "nvidia.com/gpu"
    /// Node label holding the accelerator type (`H100-80GB`).
    public static let acceleratorTypeLabel = "starling.dev/accelerator-type"
    /// Node label holding the rack a node sits in.
    public static let rackLabel = "topology.starling.dev/rack"

    public static let modelServiceLabel = "starling.dev/model-service"
    public static let groupIndexLabel = "starling.dev/group-index"
    public static let workerIndexLabel = "starling.dev/worker-index"
    public static let revisionLabel = "starling.dev/revision"
    /// Pods with the same gang label are placed together or not at all.
    public static let gangLabel = "starling.dev/gang"
    /// The node label key whose domain a gang has to itself (`group.exclusiveTopology`).
    public static let exclusiveTopologyAnnotation = "starling.dev/exclusive-topology"
    /// How many pods the gang has in all (some may not exist yet).
    public static let gangSizeAnnotation = "starling.dev/gang-size"
    /// Device indexes the scheduler allocated on the node, comma-separated.
    public static let devicesAnnotation = "starling.dev/devices"
    /// Set by the embedded node agent when a node's devices are real GPUs.
    public static let realDevicesAnnotation = "starling.dev/real-devices"
    /// Indexes of a node's GPUs in MIG mode, comma-separated: their partitions are published as devices too.
    public static let migDevicesAnnotation = "starling.dev/mig-devices"
    /// A node's GPU UUIDs in index order, comma-separated, where the hardware reports them.
    public static let gpuUUIDsAnnotation = "starling.dev/gpu-uuids"
    /// The MIG devices that exist on a node's real GPUs (`gpu/profile/ordinal/uuid`, comma-separated); present on
    /// a node whose GPUs report MIG mode, even empty, so that only existing MIG devices are published.
    public static let migInstancesAnnotation = "starling.dev/mig-instances"

    public static let envLeaderAddress = "STARLING_LEADER_ADDRESS"
    /// The accelerator type and partition profile a pod's claims were given (the alternative `firstAvailable` chose).
    public static let envAcceleratorType = "STARLING_ACCELERATOR_TYPE"
    public static let envAcceleratorPartition = "STARLING_ACCELERATOR_PARTITION"
    public static let envGroupSize = "STARLING_GROUP_SIZE"
    public static let envGroupIndex = "STARLING_GROUP_INDEX"
    public static let envWorkerIndex = "STARLING_WORKER_INDEX"
    public static let envPort = "PORT"

    /// Command name the node agent maps to its own executable, so pods of engine `sim` run the same build.
    public static let starlingExecutable = "starling"
    /// Built-in simulator profiles (`starling model-server --list-profiles`); a test keeps this list equal to the
    /// simulator's catalog so the API can reject unknown profiles without depending on the simulator.
    public static let simulatorProfiles = [
        "llama-3.1-8b-h100", "llama-3.1-8b-a100", "llama-3.1-70b-h100-tp4", "llama-3.1-70b-h100-tp8", "tiny",
    ]

    public static let defaultNamespace = "default"
    public static let schedulerName = "starling-scheduler"
    public static let foregroundDeletionFinalizer = "foregroundDeletion"
    public static let orphanFinalizer = "orphan"
}

/// How `starling drain` waits by default.
public enum DrainDefaults {
    /// Seconds a removed replica keeps serving what reaches it before it may stop: room for gateways watching the
    /// API server to learn it is going.
    public static let settleSeconds = 2.0
}
