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
                if let source = e.valueFrom {
                    let path = "spec.containers[\(i)].env[\(j)].valueFrom"
                    if e.value != nil {
                        errors.append(FieldError(path, "may not be specified when `value` is not empty"))
                    }
                    if let field = source.fieldRef?.fieldPath {
                        if !ObjectFieldSelector.supportedPaths.contains(field) {
                            errors.append(
                                .notSupported(
                                    "\(path).fieldRef.fieldPath", field, allowed: ObjectFieldSelector.supportedPaths))
                        }
                    } else {
                        errors.append(FieldError("\(path).fieldRef", "Required value"))
                    }
                }
            }
        }
        errors += resourceClaimErrors()
        if let policy = spec.restartPolicy, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(.notSupported("spec.restartPolicy", policy, allowed: ["Always", "OnFailure", "Never"]))
        }
        return errors
    }

    /// The ResourceClaim a pod's claim resolves to: the one it names, or the one made for it from its template
    /// (recorded in `status.resourceClaimStatuses`); nil while that is not made yet.
    public func resourceClaimName(for claim: PodResourceClaim) -> String? {
        claim.resourceClaimName
            ?? status?.resourceClaimStatuses?.first { $0.name == claim.name }?.resourceClaimName
    }

    /// `spec.resourceClaims`: unique names, each from exactly one source; containers use only claims the pod has.
    func resourceClaimErrors() -> [FieldError] {
        var errors: [FieldError] = []
        var claims = Set<String>()
        for (i, claim) in (spec.resourceClaims ?? []).enumerated() {
            let path = "spec.resourceClaims[\(i)]"
            errors += Validation.dnsLabelErrors(claim.name, path: "\(path).name")
            if !claims.insert(claim.name).inserted {
                errors.append(FieldError("\(path).name", "Duplicate value: \"\(claim.name)\""))
            }
            switch (claim.resourceClaimName, claim.resourceClaimTemplateName) {
            case (nil, nil), (.some, .some):
                errors.append(
                    FieldError(path, "Invalid value: exactly one of `resourceClaimName` or `resourceClaimTemplateName`")
                )
            case (let name?, nil): errors += Validation.dnsSubdomainErrors(name, path: "\(path).resourceClaimName")
            case (nil, let name?):
                errors += Validation.dnsSubdomainErrors(name, path: "\(path).resourceClaimTemplateName")
            }
        }
        for (i, container) in spec.containers.enumerated() {
            for (j, used) in (container.resources?.claims ?? []).enumerated() where !claims.contains(used.name) {
                errors.append(
                    FieldError(
                        "spec.containers[\(i)].resources.claims[\(j)].name",
                        "Invalid value: \"\(used.name)\": must be the name of one of spec.resourceClaims"))
            }
        }
        return errors
    }

    /// True when the pod has a Ready condition with status True.
    public var isReady: Bool { status?.conditions?.condition("Ready")?.isTrue ?? false }

    /// True when the pod has finished for good.
    public var isTerminal: Bool { status?.phase == .succeeded || status?.phase == .failed }

    /// The container port the pod serves requests on: the one named `http`, else the first declared.
    public var servingPort: Int? {
        let ports = spec.containers.flatMap { $0.ports ?? [] }
        return (ports.first { $0.name == "http" } ?? ports.first)?.containerPort
    }

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
    public var serviceAccountName: String?
    /// The DRA claims the pod uses, each from an existing claim or made for the pod from a template.
    public var resourceClaims: [PodResourceClaim]?

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
    /// Hooks around the container's life: `preStop` runs before the stop signal when the pod is deleted.
    public var lifecycle: Lifecycle?

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

/// Core v1 `EnvVar`: a literal value, or a field of the pod (the downward API).
public struct EnvVar: Codable, Sendable, Equatable, Hashable {
    /// The variable's name (a C identifier).
    public var name: String
    /// Its value; `$(NAME)` refers to an earlier variable.
    public var value: String?
    /// Where the value comes from instead of `value`: a field of the pod.
    public var valueFrom: EnvVarSource?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }

    /// A variable holding a field of the pod (`status.podIP`, `metadata.name`, …).
    public init(name: String, fieldPath: String) {
        self.name = name
        self.valueFrom = EnvVarSource(fieldRef: ObjectFieldSelector(fieldPath: fieldPath))
    }
}

/// Core v1 `EnvVarSource` subset: the downward API's field references.
public struct EnvVarSource: Codable, Sendable, Equatable, Hashable {
    /// A field of the pod.
    public var fieldRef: ObjectFieldSelector?

    public init(fieldRef: ObjectFieldSelector?) { self.fieldRef = fieldRef }
}

/// Core v1 `ObjectFieldSelector`.
public struct ObjectFieldSelector: Codable, Sendable, Equatable, Hashable {
    /// The field's path: one of `ObjectFieldSelector.supportedPaths`.
    public var fieldPath: String
    /// The API version the path is written against (`v1`).
    public var apiVersion: String?

    public init(fieldPath: String, apiVersion: String? = nil) {
        self.fieldPath = fieldPath
        self.apiVersion = apiVersion
    }

    /// The pod fields Starling resolves (the downward API's, less labels and annotations).
    public static let supportedPaths = [
        "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
        "status.podIP", "status.hostIP",
    ]

    /// The field's value in `pod`, or nil when it is unset or not supported.
    public func value(in pod: Pod) -> String? {
        switch fieldPath {
        case "metadata.name": return pod.metadata.name
        case "metadata.namespace": return pod.metadata.namespace
        case "metadata.uid": return pod.metadata.uid
        case "spec.nodeName": return pod.spec.nodeName
        case "spec.serviceAccountName": return pod.spec.serviceAccountName
        case "status.podIP": return pod.status?.podIP
        case "status.hostIP": return pod.status?.hostIP
        default: return nil
        }
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

/// Core v1 `Lifecycle` subset.
public struct Lifecycle: Codable, Sendable, Equatable {
    /// Runs when the pod is deleted, before the container gets SIGTERM; the termination grace period covers both.
    public var preStop: LifecycleHandler?

    public init(preStop: LifecycleHandler?) { self.preStop = preStop }
}

/// Core v1 `LifecycleHandler` subset: a command run in the container.
public struct LifecycleHandler: Codable, Sendable, Equatable {
    public var exec: ExecAction?

    public init(exec: ExecAction?) { self.exec = exec }
}

/// Core v1 `ExecAction`.
public struct ExecAction: Codable, Sendable, Equatable {
    /// The command and its arguments, run without a shell (`$(VAR)` is not expanded, as in Kubernetes).
    public var command: [String]

    public init(command: [String]) { self.command = command }
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
    /// The pod's `resourceClaims` (by name) whose devices this container gets.
    public var claims: [ResourceClaimReference]?

    public init(
        limits: [String: String]? = nil, requests: [String: String]? = nil, claims: [ResourceClaimReference]? = nil
    ) {
        self.limits = limits
        self.requests = requests
        self.claims = claims
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

/// Core v1 `PodStatus` subset.
public struct PodStatus: Codable, Sendable, Equatable {
    public var phase: PodPhase?
    public var conditions: [Condition]?
    public var podIP: String?
    public var hostIP: String?
    public var startTime: String?
    public var reason: String?
    public var message: String?
    public var containerStatuses: [ContainerStatus]?
    /// The pod's addresses (`podIP` first), as Kubernetes lists them.
    public var podIPs: [PodIP]?
    /// Deprecated and no longer written: earlier embedded node agents put each pod on its own loopback port here.
    /// Pods now serve their declared `containerPort` on their own `podIP`. Kept so older state still decodes.
    public var ports: [PodPortStatus]?
    /// The claim made for each of the pod's templated `resourceClaims`.
    public var resourceClaimStatuses: [PodResourceClaimStatus]?

    public init(phase: PodPhase? = nil, conditions: [Condition]? = nil) {
        self.phase = phase
        self.conditions = conditions
    }
}

/// Core v1 `PodIP`.
public struct PodIP: Codable, Sendable, Equatable, Hashable {
    /// An address of the pod.
    public var ip: String

    public init(ip: String) { self.ip = ip }
}

/// A port a pod served on its `podIP` (deprecated; see `PodStatus.ports`).
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

/// A claim a pod uses: `resourceClaimName` (an existing claim, shared) or `resourceClaimTemplateName` (a claim made
/// for this pod, owned by it).
public struct PodResourceClaim: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var resourceClaimName: String?
    public var resourceClaimTemplateName: String?

    public init(name: String, resourceClaimName: String? = nil, resourceClaimTemplateName: String? = nil) {
        self.name = name
        self.resourceClaimName = resourceClaimName
        self.resourceClaimTemplateName = resourceClaimTemplateName
    }
}

/// A container's use of one of its pod's claims.
public struct ResourceClaimReference: Codable, Sendable, Equatable, Hashable {
    public var name: String
    /// One request of the claim; all of them when unset.
    public var request: String?

    public init(name: String, request: String? = nil) {
        self.name = name
        self.request = request
    }
}

/// The claim made for a pod's templated claim, by the pod's claim name.
public struct PodResourceClaimStatus: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var resourceClaimName: String?

    public init(name: String, resourceClaimName: String?) {
        self.name = name
        self.resourceClaimName = resourceClaimName
    }
}
