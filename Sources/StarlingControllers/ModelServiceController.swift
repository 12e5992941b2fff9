import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// Keeps each ModelService's pods and status in line with its spec. Level-based: it can stop and restart at any
/// point and converges from what the API server holds.
public struct ModelServiceController: Service {
    let client: any KubeAPI
    let logger: Logger
    let planner: ModelServicePlanner
    let workers: Int
    /// The one namespace watched, or nil for all.
    let namespace: String?
    /// The process's shared informers; nil to run private ones.
    let informers: SharedInformers?

    /// `informers`, when given, must be run by its owner; without it the controller runs informers of its own.
    public init(
        client: any KubeAPI, informers: SharedInformers? = nil, workers: Int = 2,
        planner: ModelServicePlanner = ModelServicePlanner(), namespace: String? = nil,
        logger: Logger = Logger(label: "starling.controller.modelservice")
    ) {
        self.client = client
        self.informers = informers
        self.namespace = namespace
        self.workers = workers
        self.planner = planner
        self.logger = logger
    }

    /// Every request the controller makes, as RBAC sees it; the shipped ClusterRole grants exactly these.
    public static let apiAccess: [APIAccess] =
        APIAccess.on(ModelService.descriptor, "list", "watch")
        + APIAccess.on(ModelService.descriptor, subresource: "status", "patch")
        + APIAccess.on(Pod.descriptor, "list", "watch", "create", "delete")
        + APIAccess.on(KubeService.descriptor, "list", "watch", "create")
        + EventRecorder.apiAccess

    /// What the controller adds where pods get their devices through DRA claims: each revision's claim template.
    public static let deviceClaimAccess: [APIAccess] = APIAccess.on(
        ResourceClaimTemplate.descriptor, "list", "watch", "create", "delete")

    public func run() async throws {
        let shared = informers ?? SharedInformers(client: client, logger: logger)
        // One cache per kind for the process: all pods and Services of the namespace, filtered here by label.
        let services = await shared.informer(ModelService.self, namespace: namespace)
        let pods = await shared.informer(Pod.self, namespace: namespace)
        let headless = await shared.informer(KubeService.self, namespace: namespace)
        // Claim templates only where pods get claims (a cluster without DRA does not serve the kind).
        let templates =
            planner.template.deviceClaims
            ? await shared.informer(ResourceClaimTemplate.self, namespace: namespace) : nil
        let queue = WorkQueue<ObjectKey>()
        let recorder = EventRecorder(client: client, component: "modelservice-controller", logger: logger)
        let undecodableHandler = await services.addUndecodableHandler { object in
            await reportUndecodable(object, recorder: recorder)
        }
        let servicesHandler = await services.addHandler { event in
            switch event {
            case .added(let s), .updated(_, let s), .deleted(let s): await queue.add(ObjectKey(s.metadata))
            }
        }
        let podsHandler = await pods.addHandler { event in
            let pod: Pod
            switch event {
            case .added(let p), .updated(_, let p), .deleted(let p): pod = p
            }
            if let owner = pod.metadata.labels?[WellKnown.modelServiceLabel] {
                await queue.add(ObjectKey(namespace: pod.metadata.namespace, name: owner))
            }
        }
        let loop = ControllerLoop(queue: queue, workers: workers, logger: logger) { key in
            let outcome = try await reconcile(
                key, services: services, pods: pods, headless: headless, templates: templates, recorder: recorder)
            if outcome.morePending { await queue.add(key) }
            if let delay = outcome.requeueAfter { await queue.add(key, after: delay) }
        }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if informers == nil { group.addTask { await shared.run() } }
                group.addTask {
                    await services.waitForSync()
                    await pods.waitForSync()
                    await headless.waitForSync()
                    await templates?.waitForSync()
                    await loop.run()
                }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            Task { await queue.shutDown() }
        }
        await services.removeHandler(servicesHandler)
        await services.removeUndecodableHandler(undecodableHandler)
        await pods.removeHandler(podsHandler)
        await queue.shutDown()
    }

    /// A ModelService this build cannot decode is left alone (its pods kept), and says why: a Warning Event and a
    /// `ReplicaFailure` condition with reason `DecodeFailed`, written as a merge patch of the raw status.
    func reportUndecodable(_ object: UndecodableObject, recorder: EventRecorder) async {
        let message = "cannot decode this ModelService (\(object.error)); it is left as it is until it is fixed"
        let reference = ObjectReference(
            apiVersion: ModelService.descriptor.apiVersion, kind: ModelService.descriptor.kind,
            namespace: object.key.namespace, name: object.key.name, uid: object.uid)
        await recorder.record(reference, type: "Warning", reason: "DecodeFailed", message: message)
        let condition: JSONValue = .object([
            "type": .string("ReplicaFailure"), "status": .string("True"), "reason": .string("DecodeFailed"),
            "message": .string(message), "lastTransitionTime": .string(Timestamp.now()),
        ])
        do {
            let patch: JSONValue = .object(["status": .object(["conditions": .array([condition])])])
            _ = try await client.patchRaw(
                ModelService.descriptor, namespace: object.key.namespace ?? WellKnown.defaultNamespace,
                name: object.key.name, patch: patch, patchType: .merge, subresource: "status")
        } catch {
            logger.debug("cannot report an undecodable object", metadata: ["object": "\(object.key)"])
        }
    }

    /// What a pass leaves to do: more pods than one pass creates, or a backoff that ends later.
    struct Outcome {
        var morePending = false
        var requeueAfter: Duration?
    }

    /// Brings one ModelService closer to its spec.
    func reconcile(
        _ key: ObjectKey, services: Informer<ModelService>, pods: Informer<Pod>, headless: Informer<KubeService>,
        templates: Informer<ResourceClaimTemplate>? = nil, recorder: EventRecorder
    ) async throws -> Outcome {
        guard let service = await services.get(key), service.metadata.deletionTimestamp == nil else { return Outcome() }
        if await headless.get(key) == nil {
            let builder = GroupPodBuilder(service: service, revision: "", options: planner.template)
            do {
                _ = try await client.create(builder.headlessService())
            } catch let status as Status where status.isConflict {}
        }
        let owned = await pods.list(
            namespace: key.namespace, selector: LabelSelector(matching: [WellKnown.modelServiceLabel: key.name])
        ).filter { pod in
            pod.metadata.ownerReferences?.contains { $0.uid == service.metadata.uid } ?? false
        }
        let plan = planner.plan(service: service, pods: owned, now: Timestamp.now())
        let namespace = key.namespace ?? WellKnown.defaultNamespace
        var deletedAny = false
        for name in plan.delete {
            do {
                try await client.delete(Pod.self, namespace: namespace, name: name)
                deletedAny = true
            } catch let status as Status where status.isNotFound {}
        }
        if let templates {
            try await syncClaimTemplates(service: service, creating: plan.create, owned: owned, templates: templates)
        }
        let created = try await create(plan.create, for: service, services: services)
        let createdAny = created > 0
        guard created == plan.create.count else { return Outcome() }
        // A stale cache can plan work that is already done; only report what this pass actually did.
        for event in plan.events {
            if event.reason == "CreatedGroup" && !createdAny { continue }
            if ["DeletedGroup", "RecreatingGroup", "RollingGroup"].contains(event.reason) && !deletedAny { continue }
            await recorder.record(service, type: event.type, reason: event.reason, message: event.message)
        }
        if plan.status != service.status {
            // status.autoscaling is the autoscaler's to write.
            _ = try await client.patchStatus(
                ModelService.self, namespace: namespace, name: key.name, status: plan.status,
                previous: service.status, excluding: ["autoscaling"])
        }
        logger.debug(
            "reconciled",
            metadata: [
                "modelservice": "\(key)", "plan.create": "\(plan.create.count)", "plan.delete": "\(plan.delete.count)",
                "plan.more_pending": "\(plan.morePending)",
            ])
        return Outcome(morePending: plan.morePending, requeueAfter: plan.requeueAfter)
    }

    /// Creates the ResourceClaimTemplates the pods about to be made name (one per revision, owned by the service),
    /// and deletes the service's templates of revisions no pod uses any more.
    func syncClaimTemplates(
        service: ModelService, creating: [Pod], owned: [Pod], templates: Informer<ResourceClaimTemplate>
    ) async throws {
        let namespace = service.metadata.namespace ?? WellKnown.defaultNamespace
        let existing = await templates.list(
            namespace: namespace,
            selector: LabelSelector(matching: [WellKnown.modelServiceLabel: service.metadata.nameOrEmpty])
        ).filter { $0.metadata.ownerReferences?.contains { $0.uid == service.metadata.uid } == true }
        let have = Set(existing.map { $0.metadata.nameOrEmpty })
        // Every revision a pod (made or about to be) claims from; a template deleted under its pods is made again.
        let needed = Set(
            (creating + owned).compactMap { pod -> String? in
                guard pod.spec.resourceClaims?.isEmpty == false else { return nil }
                return pod.metadata.labels?[WellKnown.revisionLabel]
            })
        // A template is made from the spec of its own revision: the service's, or the one groups below the
        // partition keep.
        var specs = [GroupPodBuilder.revision(of: service.spec): service.spec]
        if let kept = service.status?.keptTemplate { specs[kept.revision] = kept.spec }
        for revision in needed.sorted() {
            guard let spec = specs[revision] else { continue }
            var shaped = service
            shaped.spec = spec
            guard let template = AcceleratorClaims.template(for: shaped, revision: revision),
                !have.contains(template.metadata.nameOrEmpty)
            else { continue }
            do {
                _ = try await client.create(template)
            } catch let status as Status where status.isConflict {}
        }
        // The current revision's is kept even before its pods show in the cache.
        let inUse = needed.union(owned.compactMap { $0.metadata.labels?[WellKnown.revisionLabel] }).union(specs.keys)
        for template in existing where !inUse.contains(template.metadata.labels?[WellKnown.revisionLabel] ?? "") {
            do {
                try await client.delete(
                    ResourceClaimTemplate.self, namespace: namespace, name: template.metadata.nameOrEmpty)
            } catch let status as Status where status.isNotFound {}
        }
    }

    /// Creates `pods` in slow-start batches (1, 2, 4, …), each batch concurrently. Stops between batches, returning
    /// how many were created, when the service is deleted or replaced, or when Starling shuts down; a failed create
    /// ends the pass with its error after the batch it was in.
    func create(_ pods: [Pod], for service: ModelService, services: Informer<ModelService>) async throws -> Int {
        var created = 0
        for size in SlowStart.batches(total: pods.count) {
            if Task.isCancelled || Task.isShuttingDownGracefully { return created }
            if let current = await services.get(ObjectKey(service.metadata)) {
                if current.metadata.uid != service.metadata.uid || current.metadata.deletionTimestamp != nil {
                    return created
                }
            } else {
                return created
            }
            let batch = pods[created..<(created + size)]
            let failures = await withTaskGroup(of: (any Error)?.self) { group in
                for pod in batch {
                    group.addTask {
                        do {
                            _ = try await client.create(pod)
                        } catch let status as Status where status.isConflict {
                        } catch {
                            return error
                        }
                        return nil
                    }
                }
                var errors: [any Error] = []
                for await case let error? in group { errors.append(error) }
                return errors
            }
            created += size
            if let first = failures.first { throw first }
        }
        return created
    }
}
