import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// The embedded scheduler: watches nodes and pods, places pending pods of `starling-scheduler` with the
/// `GangScheduler`, binds them through the binding subresource (device indexes in an annotation), and marks
/// pods that cannot fit with `PodScheduled=False`.
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

    public func run() async throws {
        let shared = informers ?? SharedInformers(client: client, logger: logger)
        let nodes = await shared.informer(Node.self)
        let pods = await shared.informer(Pod.self)
        let (wake, wakeContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let nodesHandler = await nodes.addHandler { _ in wakeContinuation.yield() }
        let podsHandler = await pods.addHandler { event in
            switch event {
            case .added(let p) where p.spec.nodeName == nil: wakeContinuation.yield()
            case .deleted, .updated: wakeContinuation.yield()
            default: break
            }
        }
        let state = SchedulerState()
        let recorder = EventRecorder(client: client, component: WellKnown.schedulerName, logger: logger)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if informers == nil { group.addTask { await shared.run() } }
                group.addTask {
                    await nodes.waitForSync()
                    await pods.waitForSync()
                    wakeContinuation.yield()
                    for await _ in wake {
                        await schedulePass(nodes: nodes, pods: pods, state: state, recorder: recorder)
                    }
                }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wakeContinuation.finish()
        }
        await nodes.removeHandler(nodesHandler)
        await pods.removeHandler(podsHandler)
    }

    func schedulePass(
        nodes: Informer<Node>, pods: Informer<Pod>, state: SchedulerState, recorder: EventRecorder
    ) async {
        let allPods = await pods.list()
        let allNodes = await nodes.list()
        await state.forgetConfirmed(allPods)
        let assumed = await state.assumed
        let input = Self.input(nodes: allNodes, pods: allPods, assumed: assumed)
        let decision = GangScheduler().schedule(nodes: input.nodes, gangs: input.gangs)
        for placement in decision.placements {
            do {
                try await client.bind(
                    namespace: placement.pod.namespace, pod: placement.pod.name, node: placement.node,
                    annotations: [
                        WellKnown.devicesAnnotation: placement.devices.map(String.init).joined(separator: ",")
                    ])
                await state.assume(placement)
                logger.info(
                    "bound pod",
                    metadata: [
                        "pod": "\(placement.pod.key)", "node": "\(placement.node)",
                        "devices": "\(placement.devices.map(String.init).joined(separator: ","))",
                    ])
            } catch {
                logger.warning("binding failed", metadata: ["pod": "\(placement.pod.key)", "error": "\(error)"])
            }
        }
        let byKey = Dictionary(
            allPods.map { ("\($0.metadata.namespace ?? "")/\($0.metadata.nameOrEmpty)", $0) },
            uniquingKeysWith: { a, _ in a })
        for (request, message) in decision.unschedulable {
            guard var pod = byKey[request.key] else { continue }
            let existing = pod.status?.conditions?.condition("PodScheduled")
            if existing?.status == "False" && existing?.message == message { continue }
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
                logger.debug("cannot mark pod unschedulable", metadata: ["pod": "\(request.key)", "error": "\(error)"])
            }
            // As kube-scheduler does: a Warning Event on the pod, repeats folded into one with a count.
            await recorder.record(pod, type: "Warning", reason: "FailedScheduling", message: message)
        }
    }

    /// Builds the scheduler's view from cached nodes and pods, plus bindings made but not yet seen in the cache.
    static func input(nodes: [Node], pods: [Pod], assumed: [String: Placement]) -> (nodes: [NodeInfo], gangs: [Gang]) {
        var allocated: [String: Set<Int>] = [:]
        var pending: [Pod] = []
        // Members already bound count towards their gang: only the missing ones need room.
        var boundPerGang: [String: Int] = [:]
        for pod in pods {
            let key = "\(pod.metadata.namespace ?? "")/\(pod.metadata.nameOrEmpty)"
            if let node = pod.spec.nodeName {
                if pod.isTerminal { continue }
                if let gang = pod.metadata.labels?[WellKnown.gangLabel] {
                    boundPerGang["\(pod.metadata.namespace ?? "")/\(gang)", default: 0] += 1
                }
                let devices = (pod.metadata.annotations?[WellKnown.devicesAnnotation] ?? "")
                    .split(separator: ",").compactMap { Int($0) }
                allocated[node, default: []].formUnion(devices)
            } else if let placement = assumed[key] {
                allocated[placement.node, default: []].formUnion(placement.devices)
            } else if pod.metadata.deletionTimestamp == nil
                && (pod.spec.schedulerName ?? WellKnown.schedulerName) == WellKnown.schedulerName
            {
                pending.append(pod)
            }
        }
        let nodeInfos = nodes.map { node in
            NodeInfo(
                name: node.metadata.nameOrEmpty, labels: node.metadata.labels ?? [:],
                acceleratorType: node.acceleratorType, deviceCount: node.acceleratorCount,
                allocated: allocated[node.metadata.nameOrEmpty] ?? [],
                schedulable: node.isReady && node.spec?.unschedulable != true)
        }
        var gangs: [String: Gang] = [:]
        for pod in pending {
            let namespace = pod.metadata.namespace ?? WellKnown.defaultNamespace
            let request = PodRequest(
                namespace: namespace, name: pod.metadata.nameOrEmpty, devices: Self.devices(of: pod),
                nodeSelector: pod.spec.nodeSelector ?? [:])
            let gangName = pod.metadata.labels?[WellKnown.gangLabel].map { "\(namespace)/\($0)" } ?? request.key
            let size = pod.metadata.annotations?[WellKnown.gangSizeAnnotation].flatMap(Int.init) ?? 1
            var gang =
                gangs[gangName]
                ?? Gang(
                    name: gangName, pods: [], size: 0, priority: pod.spec.priority ?? 0,
                    creationOrder: pod.metadata.creationTimestamp ?? "")
            gang.pods.append(request)
            gang.pods.sort { $0.name < $1.name }
            gang.size = max(size, gang.pods.count)
            gangs[gangName] = gang
        }
        for (name, var gang) in gangs {
            gang.size = max(gang.pods.count, gang.size - boundPerGang[name, default: 0])
            gangs[name] = gang
        }
        return (nodeInfos, gangs.values.sorted { $0.name < $1.name })
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

    func forgetConfirmed(_ pods: [Pod]) {
        let present = Dictionary(
            pods.map { ("\($0.metadata.namespace ?? "")/\($0.metadata.nameOrEmpty)", $0) },
            uniquingKeysWith: { a, _ in a })
        for key in assumed.keys {
            guard let pod = present[key] else {
                assumed[key] = nil
                continue
            }
            if pod.spec.nodeName != nil { assumed[key] = nil }
        }
    }
}
