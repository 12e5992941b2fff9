import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// Runs the `Autoscaler` decision for every ModelService with `spec.autoscaling`, once an `interval`: reads the
/// service's load from a signal source, writes the replica count through the scale subresource, records an Event
/// per change and `status.autoscaling`. Thin: the decision is `Autoscaler`'s.
public struct AutoscalerController: Service {
    let client: any KubeAPI
    let informers: SharedInformers?
    let signals: any AutoscaleSignalSource
    let interval: Duration
    let algorithm: Autoscaler.Algorithm
    /// The one namespace watched, or nil for all.
    let namespace: String?
    let logger: Logger

    /// How often Starling's algorithm evaluates.
    public static let defaultInterval = Duration.milliseconds(500)

    /// Every request the autoscaler makes, as RBAC sees it.
    public static let apiAccess: [APIAccess] =
        APIAccess.on(ModelService.descriptor, "list", "watch")
        + APIAccess.on(ModelService.descriptor, subresource: "scale", "patch")
        + APIAccess.on(ModelService.descriptor, subresource: "status", "patch")
        + APIAccess.on(Pod.descriptor, "list", "watch") + EventRecorder.apiAccess

    /// `informers`, when given, must be run by its owner. The interval defaults to half a second, so a load step is
    /// acted on within about a second of the arrival rate showing it (the rate is read over the last second). With
    /// `algorithm` `.hpa` (a benchmark's baseline) it defaults to the HPA's 15 s and each spec gets the HPA's
    /// default behavior.
    public init(
        client: any KubeAPI, informers: SharedInformers? = nil, signals: any AutoscaleSignalSource,
        interval: Duration? = nil, algorithm: Autoscaler.Algorithm = .starling, namespace: String? = nil,
        logger: Logger = Logger(label: "starling.controller.autoscaler")
    ) {
        self.client = client
        self.informers = informers
        self.signals = signals
        self.algorithm = algorithm
        self.interval = interval ?? (algorithm == .hpa ? Autoscaler.hpaSyncPeriod : Self.defaultInterval)
        self.namespace = namespace
        self.logger = logger
    }

    /// What the loop remembers of one service between evaluations.
    struct Tracked {
        var autoscaler: Autoscaler
        var written: AutoscalingStatus?
        var writtenAt: Duration?
    }

    public func run() async throws {
        let shared = informers ?? SharedInformers(client: client, logger: logger)
        let services = await shared.informer(ModelService.self, namespace: namespace)
        let pods = await shared.informer(Pod.self, namespace: namespace)
        let recorder = EventRecorder(client: client, component: "autoscaler", logger: logger)
        let origin = ContinuousClock.now
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if informers == nil { group.addTask { await shared.run() } }
                group.addTask {
                    await services.waitForSync()
                    await pods.waitForSync()
                    var tracked: [String: Tracked] = [:]
                    // Ticks at a fixed rate: the time a pass takes does not stretch the interval.
                    var deadline = ContinuousClock.now
                    while !Task.isCancelled {
                        let now = ContinuousClock.now - origin
                        var seen = Set<String>()
                        for service in await services.list() {
                            guard let declared = service.spec.autoscaling, service.metadata.deletionTimestamp == nil,
                                let uid = service.metadata.uid, service.validate().isEmpty
                            else { continue }
                            seen.insert(uid)
                            let spec = algorithm == .hpa ? Autoscaler.hpaBehavior(declared) : declared
                            var state = tracked[uid] ?? Tracked(autoscaler: Autoscaler(algorithm: algorithm))
                            await evaluate(
                                service, spec: spec, pods: pods, state: &state, now: now, recorder: recorder)
                            tracked[uid] = state
                        }
                        tracked = tracked.filter { seen.contains($0.key) }
                        deadline = max(deadline + interval, ContinuousClock.now)
                        do { try await Task.sleep(until: deadline, clock: .continuous) } catch { break }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    func evaluate(
        _ service: ModelService, spec: AutoscalingSpec, pods: Informer<Pod>, state: inout Tracked, now: Duration,
        recorder: EventRecorder
    ) async {
        let key = ObjectKey(service.metadata)
        let owned = await pods.list(
            namespace: key.namespace, selector: LabelSelector(matching: [WellKnown.modelServiceLabel: key.name])
        ).filter { $0.metadata.ownerReferences?.contains { $0.uid == service.metadata.uid } ?? false }
        let endpoints = Self.readyLeaders(owned)
        guard let load = await signals.load(of: service, endpoints: endpoints) else { return }
        let current = service.spec.desiredReplicas
        let ready = endpoints.compactMap { load.replicas[$0] }
        let observed = AutoscaleSignals(
            ready: ready, starting: max(0, current - ready.count), held: load.held, idleFor: load.idleFor,
            arrivals: load.arrivals, completions: load.completions)
        let decision = state.autoscaler.decide(spec, current: current, signals: observed, now: now)
        var status = service.status?.autoscaling ?? AutoscalingStatus()
        status.currentValue = (decision.value * 100).rounded() / 100
        status.desiredReplicas = decision.desired
        status.reason = decision.reason
        let namespace = key.namespace ?? WellKnown.defaultNamespace
        if decision.desired != current {
            do {
                _ = try await client.patchRaw(
                    ModelService.descriptor, namespace: namespace, name: key.name,
                    patch: .object(["spec": .object(["replicas": .int(Int64(decision.desired))])]), patchType: .merge,
                    subresource: "scale")
            } catch {
                logger.warning(
                    "cannot scale", metadata: ["modelservice": "\(key)", "error": "\(error)"])
                return
            }
            let up = decision.desired > current
            logger.info(
                up ? "scaled up" : "scaled down",
                metadata: [
                    "modelservice": "\(key)", "replicas.from": "\(current)", "replicas.to": "\(decision.desired)",
                    "autoscaler.reason": "\(decision.reason)",
                ])
            await recorder.record(
                service, type: "Normal", reason: up ? "ScaledUp" : "ScaledDown",
                message: "\(decision.reason): \(current) → \(decision.desired) replicas")
            status.lastScaleTime = Timestamp.now()
        }
        // Status follows decisions, and otherwise the metric at most every 5 s, so a steady service costs no writes.
        let changed =
            status.desiredReplicas != state.written?.desiredReplicas
            || status.lastScaleTime != state.written?.lastScaleTime
        let stale = state.writtenAt.map { now - $0 >= .seconds(5) } ?? true
        guard status != state.written, changed || stale else { return }
        do {
            _ = try await client.patchRaw(
                ModelService.descriptor, namespace: namespace, name: key.name,
                patch: .object(["status": .object(["autoscaling": try JSONValue(encoding: status)])]),
                patchType: .merge, subresource: "status")
            state.written = status
            state.writtenAt = now
        } catch {
            logger.debug("cannot write autoscaling status", metadata: ["modelservice": "\(key)", "error": "\(error)"])
        }
    }

    /// The `host:port` of each group's leader that is Ready, addressed and not being deleted: the replicas that
    /// serve.
    static func readyLeaders(_ pods: [Pod]) -> [String] {
        pods.compactMap { pod in
            guard pod.metadata.labels?[WellKnown.workerIndexLabel] ?? "0" == "0", pod.isReady,
                pod.metadata.deletionTimestamp == nil, let ip = pod.status?.podIP, !ip.isEmpty,
                let port = pod.servingPort
            else { return nil }
            return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        }.sorted()
    }
}
