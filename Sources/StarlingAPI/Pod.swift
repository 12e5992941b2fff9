/// Core v1 `Pod`: the fields Starling uses.
public struct Pod: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod", namespaced: true,
        shortNames: ["po"], hasStatus: true, categories: ["all"])

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus?

    public init(metadata: ObjectMeta, spec: PodSpec, status: PodStatus? = nil) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        if spec.containers.isEmpty { errors.append(.required("spec.containers")) }
        var names = Set<String>()
        for (i, c) in spec.containers.enumerated() {
            errors += Validation.dnsLabelErrors(c.name, path: "spec.containers[\(i)].name")
            if !names.insert(c.name).inserted {
                errors.append(FieldError("spec.containers[\(i)].name", "Duplicate value: \"\(c.name)\""))
            }
            if (c.command ?? []).isEmpty && c.image == nil {
                errors.append(FieldError("spec.containers[\(i)].command", "Required value: a command or an image"))
            }
            for (j, p) in (c.ports ?? []).enumerated() where !(1...65535).contains(p.containerPort) {
                errors.append(
                    FieldError(
                        "spec.containers[\(i)].ports[\(j)].containerPort",
                        "Invalid value: \(p.containerPort): must be between 1 and 65535, inclusive"))
            }
            for (j, e) in (c.env ?? []).enumerated() {
                errors += Validation.envNameErrors(e.name, path: "spec.containers[\(i)].env[\(j)].name")
            }
        }
        if let policy = spec.restartPolicy, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(.notSupported("spec.restartPolicy", policy, allowed: ["Always", "OnFailure", "Never"]))
        }
        return errors
    }

    /// True when the pod has a Ready condition with status True.
    public var isReady: Bool { status?.conditions?.condition("Ready")?.isTrue ?? false }

    /// True when the pod has finished for good.
    public var isTerminal: Bool { status?.phase == .succeeded || status?.phase == .failed }

    /// Total restarts over all containers.
    public var restartCount: Int { (status?.containerStatuses ?? []).reduce(0) { $0 + $1.restartCount } }
}

/// Core v1 `PodSpec` subset.
public struct PodSpec: Codable, Sendable, Equatable {
    public var nodeName: String?
    public var nodeSelector: [String: String]?
    public var containers: [Container]
    public var restartPolicy: String?
    public var priority: Int?
    public var priorityClassName: String?
    public var schedulerName: String?
    public var terminationGracePeriodSeconds: Int64?
    public var hostname: String?
    public var subdomain: String?
    public var affinity: Affinity?

    public init(containers: [Container], nodeName: String? = nil, nodeSelector: [String: String]? = nil) {
        self.containers = containers
        self.nodeName = nodeName
        self.nodeSelector = nodeSelector
    }
}

/// Core v1 `Container` subset.
public struct Container: Codable, Sendable, Equatable {
    public var name: String
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var env: [EnvVar]?
    public var ports: [ContainerPort]?
    public var readinessProbe: Probe?
    public var resources: ResourceRequirements?

    public init(
        name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil, env: [EnvVar]? = nil,
        ports: [ContainerPort]? = nil, readinessProbe: Probe? = nil, resources: ResourceRequirements? = nil
    ) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
        self.env = env
        self.ports = ports
        self.readinessProbe = readinessProbe
        self.resources = resources
    }
}

/// Core v1 `EnvVar` (literal values only).
public struct EnvVar: Codable, Sendable, Equatable, Hashable {
    /// The variable's name (a C identifier).
    public var name: String
    /// Its value; `$(NAME)` refers to an earlier variable.
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// Core v1 `ContainerPort`.
public struct ContainerPort: Codable, Sendable, Equatable, Hashable {
    public var name: String?
    public var containerPort: Int
    public var `protocol`: String?

    public init(name: String? = nil, containerPort: Int) {
        self.name = name
        self.containerPort = containerPort
    }
}

/// Core v1 `Probe` with an HTTP GET action.
public struct Probe: Codable, Sendable, Equatable {
    public var httpGet: HTTPGetAction?
    public var initialDelaySeconds: Int?
    public var periodSeconds: Int?
    public var failureThreshold: Int?

    public init(httpGet: HTTPGetAction?, periodSeconds: Int? = nil) {
        self.httpGet = httpGet
        self.periodSeconds = periodSeconds
    }
}

/// Core v1 `HTTPGetAction`; the port is a number or a named container port.
public struct HTTPGetAction: Codable, Sendable, Equatable {
    public var path: String?
    public var port: IntOrString

    public init(path: String?, port: IntOrString) {
        self.path = path
        self.port = port
    }
}

/// Kubernetes `IntOrString`.
public enum IntOrString: Codable, Sendable, Equatable, Hashable {
    case int(Int)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        }
    }
}

/// Core v1 `ResourceRequirements`; quantities are kept as strings.
public struct ResourceRequirements: Codable, Sendable, Equatable {
    public var limits: [String: String]?
    public var requests: [String: String]?

    public init(limits: [String: String]? = nil, requests: [String: String]? = nil) {
        self.limits = limits
        self.requests = requests
    }
}

/// Pod phases.
public enum PodPhase: String, Codable, Sendable {
    case pending = "Pending"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case unknown = "Unknown"
}

/// Core v1 `PodStatus` subset, plus `ports` where the embedded node agent says which loopback port each
/// named container port got.
public struct PodStatus: Codable, Sendable, Equatable {
    public var phase: PodPhase?
    public var conditions: [Condition]?
    public var podIP: String?
    public var hostIP: String?
    public var startTime: String?
    public var reason: String?
    public var message: String?
    public var containerStatuses: [ContainerStatus]?
    /// Starling extension: ports the embedded node agent assigned on `podIP`.
    public var ports: [PodPortStatus]?

    public init(phase: PodPhase? = nil, conditions: [Condition]? = nil) {
        self.phase = phase
        self.conditions = conditions
    }
}

/// A port a pod serves on its `podIP`.
public struct PodPortStatus: Codable, Sendable, Equatable, Hashable {
    public var name: String?
    public var port: Int

    public init(name: String?, port: Int) {
        self.name = name
        self.port = port
    }
}

/// Core v1 `ContainerStatus` subset.
public struct ContainerStatus: Codable, Sendable, Equatable {
    public var name: String
    public var ready: Bool
    public var restartCount: Int
    public var started: Bool?
    public var state: ContainerState?
    public var lastState: ContainerState?

    public init(name: String, ready: Bool, restartCount: Int, state: ContainerState? = nil) {
        self.name = name
        self.ready = ready
        self.restartCount = restartCount
        self.state = state
    }
}

/// Core v1 `ContainerState`: exactly one member is set.
public struct ContainerState: Codable, Sendable, Equatable {
    public var waiting: Waiting?
    public var running: Running?
    public var terminated: Terminated?

    public init(waiting: Waiting? = nil, running: Running? = nil, terminated: Terminated? = nil) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }

    public struct Waiting: Codable, Sendable, Equatable {
        public var reason: String?
        public var message: String?
        public init(reason: String?, message: String? = nil) {
            self.reason = reason
            self.message = message
        }
    }

    public struct Running: Codable, Sendable, Equatable {
        public var startedAt: String?
        public init(startedAt: String?) { self.startedAt = startedAt }
    }

    public struct Terminated: Codable, Sendable, Equatable {
        public var exitCode: Int
        public var signal: Int?
        public var reason: String?
        public var message: String?
        public var startedAt: String?
        public var finishedAt: String?
        public init(exitCode: Int, signal: Int? = nil, reason: String?, finishedAt: String? = nil) {
            self.exitCode = exitCode
            self.signal = signal
            self.reason = reason
            self.finishedAt = finishedAt
        }
    }
}
