import Foundation
import StarlingAPI

/// Builds the pods of one group of a ModelService: the leader (worker 0) and its workers, with LWS-style labels
/// and environment.
public struct GroupPodBuilder: Sendable {
    public let service: ModelService
    public let revision: String
    public let options: PodTemplateOptions

    public init(service: ModelService, revision: String, options: PodTemplateOptions = .embedded) {
        self.service = service
        self.revision = revision
        self.options = options
    }

    var name: String { service.metadata.nameOrEmpty }
    var namespace: String { service.metadata.namespace ?? WellKnown.defaultNamespace }

    /// `<name>-<group>` for the leader, `<name>-<group>-<worker>` for workers.
    public static func podName(service: String, group: Int, worker: Int) -> String {
        worker == 0 ? "\(service)-\(group)" : "\(service)-\(group)-\(worker)"
    }

    /// The gang (placement unit) a group's pods share.
    public static func gangName(service: String, group: Int) -> String { "\(service)-\(group)" }

    /// The server command: the user's for engine `command`; for engine `sim`, `starling model-server` with the
    /// profile, model name and adapters on the leader, and a health-only worker process on the other hosts.
    static func command(_ spec: ModelServiceSpec, worker: Int) -> [String]? {
        guard spec.server.engine == .sim else { return spec.server.command }
        // The pod's own address: a container's network namespace on a real cluster, a loopback address of its own
        // under Starling's node agent, where pods share the host's.
        var command = [
            WellKnown.starlingExecutable, "model-server", "--host", "$(POD_IP)", "--port", "$(\(WellKnown.envPort))",
        ]
        if worker > 0 { return command + ["--worker"] }
        command += ["--profile", spec.server.profile ?? "", "--served-model-name", spec.model]
        for adapter in spec.adapters ?? [] {
            command += ["--lora-modules", "\(adapter.name)=\(adapter.source ?? adapter.name)"]
        }
        return command
    }

    /// A leader's preStop hook: the drain. The pod is already out of every gateway's endpoints (it is being
    /// deleted); `starling drain` waits until its server has no request running or waiting, after a settle time
    /// for gateways that learn late, so SIGTERM comes only once the streams are done (or the grace period is up).
    /// An image without Starling waits the settle time only; vLLM's `--shutdown-timeout` then drains on SIGTERM.
    static func drain(_ spec: ModelServiceSpec) -> ExecAction {
        if spec.server.engine == .image {
            return ExecAction(command: ["sleep", String(Int(DrainDefaults.settleSeconds))])
        }
        return ExecAction(command: [
            WellKnown.starlingExecutable, "drain", "--metrics-path",
            spec.server.metricsPath ?? ServerSpec.defaultMetricsPath,
        ])
    }

    /// The pod for `worker` of `group`.
    public func pod(group: Int, worker: Int) -> Pod {
        let spec = service.spec
        let size = spec.groupSize
        let port = spec.server.port ?? ServerSpec.defaultPort
        let leader = Self.podName(service: name, group: group, worker: 0)
        let podName = Self.podName(service: name, group: group, worker: worker)
        // The pod's identity first, so the user's variables can refer to it as $(POD_IP) and so on.
        var env: [EnvVar] = [
            EnvVar(name: "POD_IP", fieldPath: "status.podIP"),
            EnvVar(name: "POD_NAME", fieldPath: "metadata.name"),
            EnvVar(name: "POD_NAMESPACE", fieldPath: "metadata.namespace"),
        ]
        env += spec.server.env ?? []
        let leaderHost = "\(leader).\(name).\(namespace)"
        env += [
            EnvVar(name: WellKnown.envLeaderAddress, value: "\(leaderHost):\(port)"),
            EnvVar(name: WellKnown.envGroupSize, value: String(size)),
            EnvVar(name: WellKnown.envGroupIndex, value: String(group)),
            EnvVar(name: WellKnown.envWorkerIndex, value: String(worker)),
            EnvVar(name: WellKnown.envPort, value: String(port)),
            EnvVar(name: "STARLING_MODEL", value: spec.model),
            // LeaderWorkerSet's names, so multi-host launch scripts written for it run unchanged.
            EnvVar(name: "LWS_LEADER_ADDRESS", value: leaderHost),
            EnvVar(name: "LWS_GROUP_SIZE", value: String(size)),
            EnvVar(name: "LWS_WORKER_INDEX", value: String(worker)),
        ]
        var container = Container(
            name: "server", command: Self.command(spec, worker: worker), args: spec.server.args, env: env,
            ports: [ContainerPort(name: "http", containerPort: port)],
            readinessProbe: Probe(
                httpGet: HTTPGetAction(
                    path: spec.server.readinessPath ?? ServerSpec.defaultReadinessPath, port: .string("http")),
                periodSeconds: 1))
        container.image = spec.server.engine == .sim ? options.starlingImage : spec.server.image
        if worker == 0 { container.lifecycle = Lifecycle(preStop: LifecycleHandler(exec: Self.drain(spec))) }
        var podSpec = PodSpec(containers: [container])
        if options.deviceClaims, spec.accelerators?.needsDevices == true {
            // The devices come from a claim made for this pod from the revision's template; its selectors pick
            // the type, so no node label is needed.
            podSpec.containers[0].resources = ResourceRequirements(claims: [
                ResourceClaimReference(name: AcceleratorClaims.claimName)
            ])
            podSpec.resourceClaims = [
                PodResourceClaim(
                    name: AcceleratorClaims.claimName,
                    resourceClaimTemplateName: AcceleratorClaims.templateName(service: name, revision: revision))
            ]
        } else {
            if let accelerators = spec.accelerators, accelerators.wholeDevices > 0 {
                podSpec.containers[0].resources = ResourceRequirements(limits: [
                    WellKnown.acceleratorResource: String(accelerators.wholeDevices)
                ])
            }
            if let type = spec.accelerators?.type { podSpec.nodeSelector = [options.acceleratorNodeLabel: type] }
        }
        podSpec.restartPolicy = "Always"
        podSpec.schedulerName = options.schedulerName
        podSpec.priority = spec.priority
        podSpec.hostname = podName
        podSpec.subdomain = name
        podSpec.terminationGracePeriodSeconds = Int64(
            spec.server.terminationGracePeriodSeconds ?? ServerSpec.defaultTerminationGracePeriodSeconds)
        let gang = Self.gangName(service: name, group: group)
        var affinity = Affinity()
        if size > 1 {
            // One host per node: a group's pods repel each other.
            affinity.podAntiAffinity = PodAntiAffinity(requiredDuringSchedulingIgnoredDuringExecution: [
                PodAffinityTerm(
                    labelSelector: LabelSelectorSpec(matchLabels: [WellKnown.gangLabel: gang]),
                    topologyKey: "kubernetes.io/hostname")
            ])
        }
        if let key = spec.group?.exclusiveTopology {
            // LeaderWorkerSet's exclusive placement, as kube-scheduler reads it: with the group's own pods in one
            // domain of `key`, and in none that holds another group's.
            affinity.podAffinity = PodAntiAffinity(requiredDuringSchedulingIgnoredDuringExecution: [
                PodAffinityTerm(
                    labelSelector: LabelSelectorSpec(matchLabels: [WellKnown.gangLabel: gang]), topologyKey: key)
            ])
            var terms = affinity.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []
            terms.append(
                PodAffinityTerm(
                    labelSelector: LabelSelectorSpec(
                        matchLabels: nil,
                        matchExpressions: [
                            LabelSelectorRequirement(key: WellKnown.gangLabel, operator: "Exists"),
                            LabelSelectorRequirement(key: WellKnown.gangLabel, operator: "NotIn", values: [gang]),
                        ]),
                    topologyKey: key))
            affinity.podAntiAffinity = PodAntiAffinity(requiredDuringSchedulingIgnoredDuringExecution: terms)
        }
        if affinity != Affinity() { podSpec.affinity = affinity }
        let labels = [
            WellKnown.modelServiceLabel: name,
            WellKnown.groupIndexLabel: String(group),
            WellKnown.workerIndexLabel: String(worker),
            WellKnown.revisionLabel: revision,
            WellKnown.gangLabel: Self.gangName(service: name, group: group),
            "starling.dev/role": worker == 0 ? "leader" : "worker",
        ]
        var annotations = [
            WellKnown.gangSizeAnnotation: String(size),
            "starling.dev/leader": leader,
        ]
        if let key = spec.group?.exclusiveTopology { annotations[WellKnown.exclusiveTopologyAnnotation] = key }
        let meta = ObjectMeta(
            name: podName, namespace: namespace, labels: labels, annotations: annotations,
            ownerReferences: [service.ownerReference()])
        return Pod(metadata: meta, spec: podSpec)
    }

    /// The headless Service that gives each pod of the ModelService a DNS name (`<pod>.<service>.<namespace>`,
    /// the pods' `hostname` and `subdomain`), published before the pods are Ready so workers can find their leader.
    public func headlessService() -> KubeService {
        let port = service.spec.server.port ?? ServerSpec.defaultPort
        return KubeService(
            metadata: ObjectMeta(
                name: name, namespace: namespace, labels: [WellKnown.modelServiceLabel: name],
                ownerReferences: [service.ownerReference()]),
            spec: KubeServiceSpec(
                clusterIP: "None", selector: [WellKnown.modelServiceLabel: name],
                ports: [ServicePort(name: "http", port: port, targetPort: .string("http"))],
                publishNotReadyAddresses: true))
    }

    /// The part of a spec that shapes pods (what the revision hashes), as kept in `status.currentTemplate`.
    static func shapingPart(of spec: ModelServiceSpec) -> ModelServiceSpec {
        var shaping = spec
        shaping.replicas = nil
        shaping.autoscaling = nil
        shaping.rollout = nil
        shaping.routing = nil
        return shaping
    }

    /// A short stable hash of everything that shapes the pods, so that a change rolls the groups.
    public static func revision(of spec: ModelServiceSpec) -> String {
        let shaping = shapingPart(of: spec)
        let data = (try? StarlingJSON.encoder.encode(shaping)) ?? Data()
        return String(FNV1a.hash(data), radix: 16).prefix(10).description
    }
}
