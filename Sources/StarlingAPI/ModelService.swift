/// The one object a user writes to serve a model: replicas of a (possibly multi-host) model server.
public struct ModelService: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: WellKnown.group, version: "v1alpha1", kind: "ModelService", plural: "modelservices",
        singular: "modelservice", namespaced: true, shortNames: ["ms"], hasStatus: true, hasScale: true,
        categories: ["all", "starling"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ModelServiceSpec
    public var status: ModelServiceStatus?

    public init(metadata: ObjectMeta, spec: ModelServiceSpec, status: ModelServiceStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// `spec` of a ModelService.
public struct ModelServiceSpec: Codable, Sendable, Equatable {
    /// The model name clients send (`model` in OpenAI requests).
    public var model: String
    /// Number of replicas (groups); default 1, at most the cluster's `--max-replicas` (1,000).
    public var replicas: Int?
    /// How many hosts one replica spans; default one.
    public var group: GroupSpec?
    /// The devices each host of a replica needs.
    public var accelerators: AcceleratorSpec?
    /// The model server each pod runs.
    public var server: ServerSpec
    /// LoRA adapters the model server loads (engine `sim`).
    public var adapters: [AdapterSpec]?
    /// Scheduling priority of the service's pods: higher-priority groups are placed first.
    public var priority: Int?
    /// Autoscaling on inference signals: the autoscaler sets `replicas` through the scale subresource.
    public var autoscaling: AutoscalingSpec?
    /// How a changed template replaces groups.
    public var rollout: RolloutSpec?
    /// How the gateway routes requests to this service.
    public var routing: RoutingSpec?

    public init(
        model: String, replicas: Int? = nil, group: GroupSpec? = nil, accelerators: AcceleratorSpec? = nil,
        server: ServerSpec
    ) {
        self.model = model
        self.replicas = replicas
        self.group = group
        self.accelerators = accelerators
        self.server = server
    }

    /// Replicas with the default applied.
    public var desiredReplicas: Int { replicas ?? 1 }
    /// Hosts per replica with the default applied.
    public var groupSize: Int { group?.size ?? 1 }
}

/// `spec.group`: how many hosts one replica spans and how the group behaves.
public struct GroupSpec: Codable, Sendable, Equatable {
    /// Hosts (pods) per replica; default 1. The first is the leader.
    public var size: Int?
    /// What happens to a group when one of its pods fails; default `RecreateGroupOnPodRestart`.
    public var restartPolicy: GroupRestartPolicy?
    /// When workers are created: with their leader (`LeaderCreated`, default) or once it is Ready.
    public var startupPolicy: StartupPolicy?
    /// A node label whose value every host of a group must share, one group per value (not built yet).
    public var exclusiveTopology: String?

    public init(
        size: Int? = nil, restartPolicy: GroupRestartPolicy? = nil, startupPolicy: StartupPolicy? = nil,
        exclusiveTopology: String? = nil
    ) {
        self.size = size
        self.restartPolicy = restartPolicy
        self.startupPolicy = startupPolicy
        self.exclusiveTopology = exclusiveTopology
    }
}

/// What happens to a group when one of its pods fails or restarts.
public struct GroupRestartPolicy: StringEnum {
    /// Recreate the whole group when any of its pods fails or restarts.
    public static let recreateGroupOnPodRestart = Self("RecreateGroupOnPodRestart")
    /// Recreate the whole group only once it has started (no pod of it Pending); before, a failed pod is replaced
    /// alone, so a group whose hosts pull large images is not torn down while they arrive (LeaderWorkerSet's policy).
    public static let recreateGroupAfterStart = Self("RecreateGroupAfterStart")
    /// Replace a failed pod alone; restarts are left to the node.
    public static let none = Self("None")
    public static let allowed: [Self] = [.recreateGroupOnPodRestart, .recreateGroupAfterStart, .none]
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// When workers are created relative to their leader.
public struct StartupPolicy: StringEnum {
    public static let leaderCreated = Self("LeaderCreated")
    public static let leaderReady = Self("LeaderReady")
    public static let allowed: [Self] = [.leaderCreated, .leaderReady]
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// `spec.accelerators`: the devices each host of a replica needs: whole devices of a type, a partition (a MIG
/// profile), or the first of several alternatives that is available. Each host's pod gets a DRA claim for them
/// where the cluster has DRA, and `nvidia.com/gpu` otherwise (whole devices only).
public struct AcceleratorSpec: Codable, Sendable, Equatable {
    /// Accelerator type every device must be (`H100-80GB`).
    public var type: String?
    /// Whole devices per host (or partitions, with `partition`); default 1 when a type or partition is named.
    public var count: Int?
    /// A partition of a device: a MIG profile such as `3g.40gb`.
    public var partition: String?
    /// Alternatives tried in order; the first that can be allocated is used (DRA's `firstAvailable`).
    public var firstAvailable: [AcceleratorChoice]?
    /// A device selector (the CEL subset of DRA) every device must also satisfy, e.g.
    /// `device.attributes["gpu.starling.dev"].index < 4`.
    public var selector: String?

    public init(type: String?, count: Int? = nil, partition: String? = nil) {
        self.type = type
        self.count = count
        self.partition = partition
    }

    /// Whole devices per host with the default applied (1 when a type is named); 0 with a partition.
    public var wholeDevices: Int { partition != nil || firstAvailable != nil ? 0 : count ?? (type == nil ? 0 : 1) }

    /// Whether the hosts need devices at all.
    public var needsDevices: Bool {
        wholeDevices > 0 || (partition != nil && (count ?? 1) > 0) || !(firstAvailable ?? []).isEmpty
    }

    /// The alternatives in order: `firstAvailable`, or the one choice `type`/`count`/`partition` make.
    public var choices: [AcceleratorChoice] {
        firstAvailable ?? [AcceleratorChoice(type: type, count: count, partition: partition)]
    }
}

/// One alternative of `spec.accelerators.firstAvailable`.
public struct AcceleratorChoice: Codable, Sendable, Equatable {
    /// Accelerator type of this alternative.
    public var type: String?
    /// Devices (or partitions) per host in this alternative; default 1.
    public var count: Int?
    /// A partition of one device in this alternative.
    public var partition: String?

    public init(type: String?, count: Int? = nil, partition: String? = nil) {
        self.type = type
        self.count = count
        self.partition = partition
    }

    /// `h100-80gb`, `3g-40gb`, `h100-80gb-3g-40gb`: a DNS label naming the alternative in a claim.
    public var requestName: String {
        let parts = [type, partition].compactMap { $0 }.map {
            String($0.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
        }
        return parts.joined(separator: "-")
    }
}

/// `spec.server`: the model server each pod runs.
public struct ServerSpec: Codable, Sendable, Equatable {
    /// `sim` (Starling's simulator), `command` (a local process) or `image` (a container, Kubernetes mode).
    public var engine: Engine
    /// The simulator's performance profile (engine `sim`).
    public var profile: String?
    /// Container image (engine `image`).
    public var image: String?
    /// The command and its arguments (engine `command`); `$(PORT)` and `$(STARLING_*)` are expanded.
    public var command: [String]?
    /// Extra arguments to the server.
    public var args: [String]?
    /// Environment variables for the server.
    public var env: [EnvVar]?
    /// The port the server listens on; default 8000.
    public var port: Int?
    /// HTTP path that answers 200 once the server is ready; default `/health`.
    public var readinessPath: String?
    /// HTTP path of the server's Prometheus metrics; default `/metrics`.
    public var metricsPath: String?
    /// Longest a replica being removed may take to finish its requests (the drain) and stop; default 60.
    public var terminationGracePeriodSeconds: Int?

    public init(engine: Engine, command: [String]? = nil, port: Int? = nil, readinessPath: String? = nil) {
        self.engine = engine
        self.command = command
        self.port = port
        self.readinessPath = readinessPath
    }

    public static let defaultPort = 8000
    public static let defaultReadinessPath = "/health"
    public static let defaultMetricsPath = "/metrics"
    /// `terminationGracePeriodSeconds`' default: room for most streams to finish (vLLM's own drain,
    /// `--shutdown-timeout`, and KServe's 45 s drain are of the same order).
    public static let defaultTerminationGracePeriodSeconds = 60
}

/// The kind of model server.
public struct Engine: StringEnum {
    public static let sim = Self("sim")
    public static let command = Self("command")
    public static let image = Self("image")
    public static let allowed: [Self] = [.sim, .command, .image]
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A LoRA adapter to serve.
public struct AdapterSpec: Codable, Sendable, Equatable {
    /// The adapter's name, as clients send it in `model`.
    public var name: String
    /// Where the adapter's weights come from.
    public var source: String?
}

/// `spec.rollout`: how a changed template replaces groups, with LeaderWorkerSet's meaning. The unit is a whole group.
public struct RolloutSpec: Codable, Sendable, Equatable {
    /// Groups that may be unavailable during a rollout: a count or a percentage of `replicas`, rounded down;
    /// default 1.
    public var maxUnavailable: IntOrString?
    /// Groups a rollout may create above `replicas` (at the new template, removed when it ends): a count or a
    /// percentage of `replicas`, rounded up; default 0. Never 0 together with `maxUnavailable`.
    public var maxSurge: IntOrString?
    /// Groups with an index at or above this are updated; the rest keep the template they run (a canary);
    /// default 0.
    public var partition: Int?

    public init(maxUnavailable: IntOrString? = nil, maxSurge: IntOrString? = nil, partition: Int? = nil) {
        self.maxUnavailable = maxUnavailable
        self.maxSurge = maxSurge
        self.partition = partition
    }
}

/// `spec.routing`.
public struct RoutingSpec: Codable, Sendable, Equatable {
    /// Default criticality of this service's requests: `Critical`, `Standard` or `Sheddable`.
    public var criticality: Criticality?
    /// Routing affinity (not supported: the default policy weighs prefix, session and LoRA affinity).
    public var affinity: String?
    /// Longest the gateway holds a request while no replica is Ready (a service scaling from zero, or starting)
    /// before answering 503; default 600, sized for model servers that take minutes to load.
    public var holdTimeoutSeconds: Int?
    /// Most requests the gateway holds for the service while no replica is Ready; beyond it, 429 with
    /// `retry-after`. Default 1000.
    public var maxHeldRequests: Int?

    public init(criticality: Criticality? = nil) { self.criticality = criticality }
}

extension RoutingSpec {
    /// `holdTimeoutSeconds`' default: vLLM takes tens of seconds to minutes to load an 8B-70B model.
    public static let defaultHoldTimeoutSeconds = 600
    /// `maxHeldRequests`' default.
    public static let defaultMaxHeldRequests = 1000
}

/// Request criticality; maps onto InferenceObjective priority (Critical > 0, Standard = 0, Sheddable < 0).
public struct Criticality: StringEnum {
    public static let critical = Self("Critical")
    public static let standard = Self("Standard")
    public static let sheddable = Self("Sheddable")
    public static let allowed: [Self] = [.critical, .standard, .sheddable]
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// `status` of a ModelService.
public struct ModelServiceStatus: Codable, Sendable, Equatable {
    /// The generation the controller last acted on.
    public var observedGeneration: Int64?
    /// Groups that exist.
    public var replicas: Int?
    /// Groups whose every pod is Ready.
    public var readyReplicas: Int?
    /// Groups below `replicas` at the update revision (the spec's template).
    public var updatedReplicas: Int?
    /// Groups below `replicas` at the update revision and Ready.
    public var updatedReadyReplicas: Int?
    /// Label selector of the service's pods, for the scale subresource.
    public var selector: String?
    /// Hash of the template groups outside a rollout run: the update revision once every group has it; before,
    /// the one groups below `rollout.partition` keep (and are recreated at).
    public var currentRevision: String?
    /// Hash of the spec's template: what the rollout moves groups to.
    public var updateRevision: String?
    /// Groups and Ready groups per revision, the update revision first.
    public var revisions: [RevisionStatus]?
    /// The pod-shaping part of the spec at `currentRevision`, kept so that a group below the partition that
    /// fails is recreated at the template it ran.
    public var currentTemplate: TemplateSnapshot?
    /// `Available`, `Progressing` and `ReplicaFailure`.
    public var conditions: [Condition]?
    /// Groups recreated after a failure that have not been Ready since: what the recreation backoff counts.
    public var groupRecreations: [GroupRecreation]?
    /// What the autoscaler saw and decided last (written by the autoscaler, not the ModelService controller).
    public var autoscaling: AutoscalingStatus?

    public init() {}
}

/// A copy of the pod-shaping part of a spec, kept in status. It is free-form in the CustomResourceDefinition's
/// schema, so that the spec's schema is not repeated under status.
public struct TemplateSnapshot: Codable, Sendable, Equatable, OpenAPISchemaProviding {
    /// The spec as it was, without the fields that do not shape pods.
    public var spec: ModelServiceSpec

    public init(_ spec: ModelServiceSpec) { self.spec = spec }
    public init(from decoder: any Decoder) throws { spec = try ModelServiceSpec(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try spec.encode(to: encoder) }

    /// An object whose fields the API server keeps as they are.
    public static var openAPISchema: JSONValue {
        .object(["type": .string("object"), "x-kubernetes-preserve-unknown-fields": .bool(true)])
    }
}

/// How many groups run one revision of the template, and how many of them are Ready.
public struct RevisionStatus: Codable, Sendable, Equatable {
    /// The revision's hash.
    public var revision: String
    /// Groups whose pods run it.
    public var replicas: Int
    /// Of them, the groups whose every pod is Ready.
    public var readyReplicas: Int

    public init(revision: String, replicas: Int, readyReplicas: Int) {
        self.revision = revision
        self.replicas = replicas
        self.readyReplicas = readyReplicas
    }
}

/// How often one group has been recreated without becoming Ready in between, and when it last was.
public struct GroupRecreation: Codable, Sendable, Equatable {
    /// The group's index.
    public var index: Int
    /// Recreations since the group was last Ready.
    public var count: Int
    /// When the latest recreation deleted the group's pods (RFC 3339).
    public var lastTime: String

    public init(index: Int, count: Int, lastTime: String) {
        self.index = index
        self.count = count
        self.lastTime = lastTime
    }
}

/// A string-valued enumeration that decodes any string, so that validation (not decoding) names the field and
/// the allowed values when a value is wrong.
public protocol StringEnum: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible
where RawValue == String {
    static var allowed: [Self] { get }
    init(rawValue: String)
}

extension StringEnum {
    public init(_ raw: String) { self.init(rawValue: raw) }
    public var description: String { rawValue }
    public var isKnown: Bool { Self.allowed.contains(self) }
    public static var allowedValues: [String] { allowed.map(\.rawValue) }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
