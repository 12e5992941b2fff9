import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// The embedded scheduler: watches nodes, pods and DRA objects, places pending pods of `starling-scheduler` with
/// the `GangScheduler`, and commits each gang as one decision: every claim's allocation is written first (and
/// undone if one fails), then the pods are bound (and the gang's bound pods are deleted, to be made again, if a
/// bind fails), so no gang is left half placed. Pods that cannot fit get `PodScheduled=False` with the reason.
public struct SchedulerService: Service {
    let client: KubeClient
    let informers: SharedInformers?
    let logger: Logger

    /// `informers`, when given, is the process's shared set, run by its owner; without it the scheduler runs its own.
    public init(
        client: KubeClient, informers: SharedInformers? = nil, logger: Logger = Logger(label: "starling.scheduler")
    ) {
        self.client = client
        self.informers = informers
        self.logger = logger
    }

    /// The scheduler's caches.
    struct Caches {
        var nodes: Informer<Node>
        var pods: Informer<Pod>
        var claims: Informer<ResourceClaim>
        var slices: Informer<ResourceSlice>
        var classes: Informer<DeviceClass>
    }

    public func run() async throws {
        let shared = informers ?? SharedInformers(client: client, logger: logger)
        let caches = Caches(
            nodes: await shared.informer(Node.self), pods: await shared.informer(Pod.self),
            claims: await shared.informer(ResourceClaim.self), slices: await shared.informer(ResourceSlice.self),
            classes: await shared.informer(DeviceClass.self))
        let (wake, wakeContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let handlers = [
            await caches.nodes.addHandler { _ in wakeContinuation.yield() },
            await caches.pods.addHandler { event in
                switch event {
                case .added(let p) where p.spec.nodeName == nil: wakeContinuation.yield()
                case .deleted, .updated: wakeContinuation.yield()
                default: break
                }
            },
            await caches.claims.addHandler { _ in wakeContinuation.yield() },
            await caches.slices.addHandler { _ in wakeContinuation.yield() },
            await caches.classes.addHandler { _ in wakeContinuation.yield() },
        ]
        let state = SchedulerState()
        let recorder = EventRecorder(client: client, component: WellKnown.schedulerName, logger: logger)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if informers == nil { group.addTask { await shared.run() } }
                group.addTask {
                    await caches.nodes.waitForSync()
                    await caches.pods.waitForSync()
                    await caches.claims.waitForSync()
                    await caches.slices.waitForSync()
                    await caches.classes.waitForSync()
                    wakeContinuation.yield()
                    for await _ in wake {
                        await schedulePass(caches, state: state, recorder: recorder)
                    }
                }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wakeContinuation.finish()
        }
        await caches.nodes.removeHandler(handlers[0])
        await caches.pods.removeHandler(handlers[1])
        await caches.claims.removeHandler(handlers[2])
        await caches.slices.removeHandler(handlers[3])
        await caches.classes.removeHandler(handlers[4])
    }

    func schedulePass(_ caches: Caches, state: SchedulerState, recorder: EventRecorder) async {
        let allPods = await caches.pods.list()
        let claims = await caches.claims.list()
        await state.forgetConfirmed(allPods, claims: claims)
        let input = Self.input(
            nodes: await caches.nodes.list(), pods: allPods, claims: claims, slices: await caches.slices.list(),
            assumed: await state.assumed)
        var scheduler = GangScheduler(classes: await caches.classes.list())
        let decision = scheduler.schedule(
            nodes: input.nodes, gangs: input.gangs, devices: input.devices, topology: input.topology)
        let byKey = Dictionary(
            allPods.map { ("\($0.metadata.namespace ?? "")/\($0.metadata.nameOrEmpty)", $0) },
            uniquingKeysWith: { a, _ in a })
        var gangs: [String: [Placement]] = [:]
        for placement in decision.placements { gangs[placement.gang, default: []].append(placement) }
        for name in gangs.keys.sorted() {
            await commit(gangs[name] ?? [], pods: byKey, state: state, recorder: recorder)
        }
        var unschedulable = decision.unschedulable
        for (key, reason) in input.waiting.sorted(by: { $0.key < $1.key }) {
            guard let pod = byKey[key] else { continue }
            unschedulable.append(
                (PodRequest(namespace: pod.metadata.namespace ?? "", name: pod.metadata.nameOrEmpty), reason))
        }
        for (request, message) in unschedulable {
            guard let pod = byKey[request.key] else { continue }
            await markUnschedulable(pod, message: message, recorder: recorder)
        }
    }

    /// Writes a gang's claim allocations, then binds its pods; undoes what it wrote if any step fails.
    func commit(_ placements: [Placement], pods: [String: Pod], state: SchedulerState, recorder: EventRecorder) async {
        var written: [(namespace: String, name: String)] = []
        for placement in placements {
            for (claim, results) in placement.claims.sorted(by: { $0.key < $1.key }) {
                let status = ResourceClaimStatus(
                    allocation: AllocationResult(results: results, node: placement.node),
                    reservedFor: [ResourceClaimConsumerReference(pod: placement.pod.name, uid: placement.pod.uid)])
                do {
                    _ = try await client.patch(
                        ResourceClaim.self, namespace: placement.pod.namespace, name: claim,
                        patch: .object(["status": try JSONValue(encoding: status)]), subresource: "status")
                    written.append((placement.pod.namespace, claim))
                } catch {
                    logger.warning(
                        "cannot allocate claim; the gang waits",
                        metadata: ["claim": "\(placement.pod.namespace)/\(claim)", "error": "\(error)"])
                    await deallocate(written)
                    return
                }
            }
        }
        var bound: [Placement] = []
        for placement in placements {
            do {
                var annotations: [String: String] = [:]
                if !placement.devices.isEmpty {
                    annotations[WellKnown.devicesAnnotation] = placement.devices.map(String.init).joined(separator: ",")
                }
                try await client.bind(
                    namespace: placement.pod.namespace, pod: placement.pod.name, node: placement.node,
                    annotations: annotations)
                await state.assume(placement)
                bound.append(placement)
                logger.info(
                    "bound pod",
                    metadata: [
                        "pod": "\(placement.pod.key)", "node": "\(placement.node)",
                        "devices": "\(Self.describe(placement))",
                    ])
                if !placement.claims.isEmpty, let pod = pods[placement.pod.key] {
                    await recorder.record(
                        pod, type: "Normal", reason: "AllocatedDevices",
                        message: "on \(placement.node): \(Self.describe(placement))")
                }
            } catch {
                logger.warning(
                    "binding failed; undoing the gang's placement",
                    metadata: ["pod": "\(placement.pod.key)", "gang": "\(placement.gang)", "error": "\(error)"])
                for pod in bound {
                    try? await client.delete(Pod.self, namespace: pod.pod.namespace, name: pod.pod.name)
                    await state.forget(pod.pod.key)
                }
                await deallocate(written)
                return
            }
        }
    }

    func deallocate(_ claims: [(namespace: String, name: String)]) async {
        for claim in claims {
            _ = try? await client.patch(
                ResourceClaim.self, namespace: claim.namespace, name: claim.name,
                patch: ResourceClaim.deallocation,
                subresource: "status")
        }
    }

    /// `accelerators/h100-80gb: gpu-0, gpu-1` per claim request, or the GPU indexes.
    static func describe(_ placement: Placement) -> String {
        var parts: [String] = []
        if !placement.devices.isEmpty {
            parts.append("gpus \(placement.devices.map(String.init).joined(separator: ","))")
        }
        for (claim, results) in placement.claims.sorted(by: { $0.key < $1.key }) {
            var byRequest: [String: [String]] = [:]
            for result in results { byRequest[result.request, default: []].append(result.device) }
            for (request, devices) in byRequest.sorted(by: { $0.key < $1.key }) {
                parts.append("claim \(claim) request \(request): \(devices.joined(separator: ", "))")
            }
        }
        return parts.joined(separator: "; ")
    }

    func markUnschedulable(_ pod: Pod, message: String, recorder: EventRecorder) async {
        var pod = pod
        let existing = pod.status?.conditions?.condition("PodScheduled")
        if existing?.status == "False" && existing?.message == message { return }
        var status = pod.status ?? PodStatus(phase: .pending)
        var conditions = status.conditions ?? []
        conditions.set(
            Condition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: message),
            now: Timestamp.now())
        status.conditions = conditions
        pod.status = status
        do {
            // Status as a merge patch of the conditions: other fields the pod's status holds are kept.
            _ = try await client.patch(
                Pod.self, namespace: pod.metadata.namespace, name: pod.metadata.nameOrEmpty,
                patch: .object(["status": .object(["conditions": try JSONValue(encoding: conditions)])]),
                subresource: "status")
        } catch {
            logger.debug(
                "cannot mark pod unschedulable", metadata: ["pod": "\(pod.key)", "error": "\(error)"])
        }
        // As kube-scheduler does: a Warning Event on the pod, repeats folded into one with a count.
        await recorder.record(pod, type: "Warning", reason: "FailedScheduling", message: message)
    }

    /// The scheduler's view: nodes, gangs of pending pods, the devices and what is in use, and pods that wait for
    /// something other than room (their claims not made yet).
    struct Input {
        var nodes: [NodeInfo]
        var gangs: [Gang]
        var devices: DeviceState
        var waiting: [String: String]
        var topology = TopologyOccupancy()
    }

    /// Builds the scheduler's view from cached objects, plus bindings made but not yet seen in the cache.
    static func input(
        nodes: [Node], pods: [Pod], claims: [ResourceClaim] = [], slices: [ResourceSlice] = [],
        assumed: [String: Placement]
    ) -> Input {
        var inUse: [DeviceID] = []
        var pending: [Pod] = []
        var live: Set<String> = []
        // Members already bound count towards their gang: only the missing ones need room.
        var boundPerGang: [String: Int] = [:]
        for pod in pods {
            let key = "\(pod.metadata.namespace ?? "")/\(pod.metadata.nameOrEmpty)"
            if pod.isTerminal { continue }
            if let uid = pod.metadata.uid { live.insert(uid) }
            if let placement = assumed[key] {
                inUse += placement.claims.values.flatMap { $0.map(DeviceID.init) }
            }
            if let node = pod.spec.nodeName {
                if let gang = pod.metadata.labels?[WellKnown.gangLabel] {
                    boundPerGang["\(pod.metadata.namespace ?? "")/\(gang)", default: 0] += 1
                }
                let indexes = (pod.metadata.annotations?[WellKnown.devicesAnnotation] ?? "")
                    .split(separator: ",").compactMap { Int($0) }
                inUse += indexes.map { Self.gpu($0, on: node) }
            } else if let placement = assumed[key] {
                inUse += placement.devices.map { Self.gpu($0, on: placement.node) }
            } else if pod.metadata.deletionTimestamp == nil
                && (pod.spec.schedulerName ?? WellKnown.schedulerName) == WellKnown.schedulerName
            {
                pending.append(pod)
            }
        }
        // A claim's devices are taken while a pod it is reserved for lives (or while it is allocated and not yet
        // reserved); a claim whose pods are all gone frees them, whether or not it has been deallocated yet.
        var claimsByKey: [String: ResourceClaim] = [:]
        for claim in claims {
            claimsByKey[claim.key] = claim
            guard let results = claim.status?.allocation?.devices?.results else { continue }
            let consumers = claim.status?.reservedFor ?? []
            if consumers.isEmpty || consumers.contains(where: { live.contains($0.uid) }) {
                inUse += results.map(DeviceID.init)
            }
        }
        // Domains by the keys groups are placed exclusively by: which gangs are in each, which one holds it.
        let keys = Set(pods.compactMap { $0.metadata.annotations?[WellKnown.exclusiveTopologyAnnotation] })
        var topology = TopologyOccupancy(keys: keys)
        if !keys.isEmpty {
            let labels = Dictionary(
                nodes.map { ($0.metadata.nameOrEmpty, $0.metadata.labels ?? [:]) }, uniquingKeysWith: { a, _ in a })
            for pod in pods where !pod.isTerminal {
                guard let gang = pod.metadata.labels?[WellKnown.gangLabel],
                    let node = pod.spec.nodeName ?? assumed[pod.key]?.node
                else { continue }
                topology.record(
                    gang: "\(pod.metadata.namespace ?? "")/\(gang)",
                    on: NodeInfo(name: node, labels: labels[node] ?? [:], acceleratorType: nil),
                    exclusiveKey: pod.metadata.annotations?[WellKnown.exclusiveTopologyAnnotation])
            }
        }
        let nodeInfos = nodes.map { node in
            NodeInfo(
                name: node.metadata.nameOrEmpty, labels: node.metadata.labels ?? [:],
                acceleratorType: node.acceleratorType, schedulable: node.isReady && node.spec?.unschedulable != true)
        }
        var gangs: [String: Gang] = [:]
        var waiting: [String: String] = [:]
        // A group's anti-affinity (one host per node) is kube-scheduler's to honour on a cluster; Starling's own
        // nodes are often one machine standing in for several, so its scheduler lets a group share a node.
        for pod in pending {
            let namespace = pod.metadata.namespace ?? WellKnown.defaultNamespace
            let key = "\(namespace)/\(pod.metadata.nameOrEmpty)"
            var podClaims: [PodClaim] = []
            var pinned: String?
            var missing: String?
            for podClaim in pod.spec.resourceClaims ?? [] {
                let name = pod.resourceClaimName(for: podClaim)
                guard let name, let claim = claimsByKey["\(namespace)/\(name)"] else {
                    missing = "waiting for its ResourceClaim \(podClaim.name) to be made"
                    break
                }
                if let allocation = claim.status?.allocation {
                    pinned = allocation.nodeSelector?.node ?? pinned
                } else {
                    podClaims.append(PodClaim(name: name, spec: claim.spec))
                }
            }
            if let missing {
                waiting[key] = missing
                continue
            }
            let request = PodRequest(
                namespace: namespace, name: pod.metadata.nameOrEmpty, devices: Self.devices(of: pod),
                nodeSelector: pod.spec.nodeSelector ?? [:], claims: podClaims, pinnedNode: pinned,
                uid: pod.metadata.uid ?? "")
            let gangName = pod.metadata.labels?[WellKnown.gangLabel].map { "\(namespace)/\($0)" } ?? request.key
            let size = pod.metadata.annotations?[WellKnown.gangSizeAnnotation].flatMap(Int.init) ?? 1
            var gang =
                gangs[gangName]
                ?? Gang(
                    name: gangName, pods: [], size: 0, priority: pod.spec.priority ?? 0,
                    creationOrder: pod.metadata.creationTimestamp ?? "",
                    exclusiveTopology: pod.metadata.annotations?[WellKnown.exclusiveTopologyAnnotation])
            gang.pods.append(request)
            gang.pods.sort { $0.name < $1.name }
            gang.size = max(size, gang.pods.count)
            gangs[gangName] = gang
        }
        for (name, var gang) in gangs {
            gang.size = max(gang.pods.count, gang.size - boundPerGang[name, default: 0])
            gangs[name] = gang
        }
        return Input(
            nodes: nodeInfos, gangs: gangs.values.sorted { $0.name < $1.name },
            devices: DeviceState(slices: slices, allocated: inUse), waiting: waiting, topology: topology)
    }

    /// Whole GPU `index` of a node, as its published device.
    static func gpu(_ index: Int, on node: String) -> DeviceID {
        DeviceID(driver: GPUInventory.driver, pool: node, device: GPUInventory.deviceName(gpu: index))
    }

    static func devices(of pod: Pod) -> Int {
        pod.spec.containers.reduce(0) { sum, c in
            sum + (c.resources?.limits?[WellKnown.acceleratorResource].flatMap(Int.init) ?? 0)
        }
    }
}

/// Bindings the scheduler made that its cache has not shown yet (kube-scheduler's "assumed" pods).
actor SchedulerState {
    var assumed: [String: Placement] = [:]

    func assume(_ placement: Placement) { assumed[placement.pod.key] = placement }

    func forget(_ key: String) { assumed[key] = nil }

    /// Drops assumptions the cache now shows: the pod bound and its claims allocated (or the pod gone).
    func forgetConfirmed(_ pods: [Pod], claims: [ResourceClaim]) {
        let present = Dictionary(pods.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let allocated = Set(claims.filter(\.isAllocated).map(\.key))
        for (key, placement) in assumed {
            guard let pod = present[key] else {
                assumed[key] = nil
                continue
            }
            let claimsShown = placement.claims.keys.allSatisfy {
                allocated.contains("\(placement.pod.namespace)/\($0)")
            }
            if pod.spec.nodeName != nil && claimsShown { assumed[key] = nil }
        }
    }
}
