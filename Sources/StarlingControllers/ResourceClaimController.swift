import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// What kube-controller-manager's resource-claim controller does, for Starling's own cluster: a pod that names a
/// ResourceClaimTemplate gets a claim made from it (`<pod>-<claim>`, owned by the pod, so it goes with the pod) and
/// the claim's name in `status.resourceClaimStatuses`; the claims of a pod that has finished are deleted, and a
/// claim whose pods are all gone is deallocated, so its devices never stay taken.
public struct ResourceClaimController: Service {
    let client: any KubeAPI
    let informers: SharedInformers
    let logger: Logger

    public static let apiAccess: [APIAccess] =
        APIAccess.on(Pod.descriptor, "list", "watch") + APIAccess.on(Pod.descriptor, subresource: "status", "patch")
        + APIAccess.on(ResourceClaim.descriptor, "list", "watch", "create", "delete")
        + APIAccess.on(ResourceClaim.descriptor, subresource: "status", "patch")
        + APIAccess.on(ResourceClaimTemplate.descriptor, "list", "watch")

    public init(client: any KubeAPI, informers: SharedInformers, logger: Logger) {
        self.client = client
        self.informers = informers
        self.logger = logger
    }

    /// The name of the claim made for a pod's templated claim.
    public static func claimName(pod: String, claim: String) -> String { "\(pod)-\(claim)" }

    public func run() async throws {
        let pods = await informers.informer(Pod.self)
        let claims = await informers.informer(ResourceClaim.self)
        let templates = await informers.informer(ResourceClaimTemplate.self)
        let (wake, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let handlers = (
            await pods.addHandler { _ in continuation.yield() }, await claims.addHandler { _ in continuation.yield() },
            await templates.addHandler { _ in continuation.yield() }
        )
        await withGracefulShutdownHandler {
            await pods.waitForSync()
            await claims.waitForSync()
            await templates.waitForSync()
            continuation.yield()
            for await _ in wake {
                await pass(pods: await pods.list(), claims: await claims.list(), templates: templates)
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
        await pods.removeHandler(handlers.0)
        await claims.removeHandler(handlers.1)
        await templates.removeHandler(handlers.2)
    }

    /// What a pass does, decided from the caches alone.
    public struct Plan: Sendable, Equatable {
        /// Claims to create, and the pod statuses to record them in.
        public var create: [ResourceClaim] = []
        public var record: [ObjectKey: [PodResourceClaimStatus]] = [:]
        /// Claims of finished pods.
        public var delete: [ObjectKey] = []
        /// Allocated claims no live pod uses.
        public var deallocate: [ObjectKey] = []
        /// Pods whose template is missing, with the reason.
        public var waiting: [ObjectKey: String] = [:]
    }

    /// Decides the pass (pure).
    public static func plan(pods: [Pod], claims: [ResourceClaim], templates: [ObjectKey: ResourceClaimTemplate]) -> Plan
    {
        var plan = Plan()
        let claimsByKey = Dictionary(claims.map { (ObjectKey($0.metadata), $0) }, uniquingKeysWith: { a, _ in a })
        var live: Set<String> = []
        for pod in pods {
            let podKey = ObjectKey(pod.metadata)
            let namespace = pod.metadata.namespace ?? WellKnown.defaultNamespace
            // A pod being deleted still runs (it may be draining): its devices stay its own until it has stopped.
            if !pod.isTerminal, let uid = pod.metadata.uid { live.insert(uid) }
            var statuses = pod.status?.resourceClaimStatuses ?? []
            var changed = false
            for podClaim in pod.spec.resourceClaims ?? [] {
                guard let templateName = podClaim.resourceClaimTemplateName else { continue }
                let name = claimName(pod: pod.metadata.nameOrEmpty, claim: podClaim.name)
                let key = ObjectKey(namespace: namespace, name: name)
                if pod.isTerminal {
                    if claimsByKey[key].map({ owned($0, by: pod) }) == true { plan.delete.append(key) }
                    continue
                }
                guard pod.metadata.deletionTimestamp == nil else { continue }
                if let existing = claimsByKey[key] {
                    // A claim of the same name left by an earlier pod is the garbage collector's to remove.
                    guard owned(existing, by: pod) else { continue }
                } else {
                    guard let template = templates[ObjectKey(namespace: namespace, name: templateName)] else {
                        plan.waiting[podKey] = "waiting for ResourceClaimTemplate \(namespace)/\(templateName)"
                        continue
                    }
                    var labels = template.spec.metadata?.labels ?? [:]
                    labels.merge(pod.metadata.labels?.filter { $0.key == WellKnown.modelServiceLabel } ?? [:]) { a, _ in
                        a
                    }
                    var annotations = template.spec.metadata?.annotations ?? [:]
                    annotations["resource.kubernetes.io/pod-claim-name"] = podClaim.name
                    plan.create.append(
                        ResourceClaim(
                            metadata: ObjectMeta(
                                name: name, namespace: namespace, labels: labels.isEmpty ? nil : labels,
                                annotations: annotations, ownerReferences: [pod.ownerReference()]),
                            spec: template.spec.spec))
                }
                if !statuses.contains(where: { $0.name == podClaim.name && $0.resourceClaimName == name }) {
                    statuses.removeAll { $0.name == podClaim.name }
                    statuses.append(PodResourceClaimStatus(name: podClaim.name, resourceClaimName: name))
                    changed = true
                }
            }
            if changed { plan.record[podKey] = statuses }
        }
        for claim in claims where claim.isAllocated && claim.metadata.deletionTimestamp == nil {
            let consumers = claim.status?.reservedFor ?? []
            if consumers.allSatisfy({ !live.contains($0.uid) }) && !consumers.isEmpty {
                plan.deallocate.append(ObjectKey(claim.metadata))
            }
        }
        return plan
    }

    static func owned(_ claim: ResourceClaim, by pod: Pod) -> Bool {
        claim.metadata.ownerReferences?.contains { $0.uid == pod.metadata.uid && $0.kind == Pod.descriptor.kind }
            ?? false
    }

    func pass(pods: [Pod], claims: [ResourceClaim], templates: Informer<ResourceClaimTemplate>) async {
        let byKey = Dictionary(
            await templates.list().map { (ObjectKey($0.metadata), $0) }, uniquingKeysWith: { a, _ in a })
        let plan = Self.plan(pods: pods, claims: claims, templates: byKey)
        for claim in plan.create {
            do {
                _ = try await client.create(claim)
            } catch let status as Status where status.isConflict {
            } catch {
                logger.warning("cannot create claim", metadata: ["claim": "\(claim.key)", "error": "\(error)"])
            }
        }
        for (pod, statuses) in plan.record.sorted(by: { $0.key.description < $1.key.description }) {
            do {
                _ = try await client.patch(
                    Pod.self, namespace: pod.namespace, name: pod.name,
                    patch: .object(["status": .object(["resourceClaimStatuses": try JSONValue(encoding: statuses)])]),
                    subresource: "status")
            } catch {
                logger.debug("cannot record pod claims", metadata: ["pod": "\(pod)", "error": "\(error)"])
            }
        }
        for key in plan.delete {
            do {
                try await client.delete(ResourceClaim.self, namespace: key.namespace, name: key.name)
            } catch let status as Status where status.isNotFound {
            } catch {
                logger.warning("cannot delete claim", metadata: ["claim": "\(key)", "error": "\(error)"])
            }
        }
        for key in plan.deallocate {
            do {
                _ = try await client.patch(
                    ResourceClaim.self, namespace: key.namespace, name: key.name,
                    patch: ResourceClaim.deallocation,
                    subresource: "status")
                logger.info("deallocated claim with no pod", metadata: ["claim": "\(key)"])
            } catch {
                logger.debug("cannot deallocate claim", metadata: ["claim": "\(key)", "error": "\(error)"])
            }
        }
    }
}
