import Foundation
import StarlingAPI

/// What the controller should do for one ModelService, decided from the service and its pods with no I/O.
public struct ModelServicePlan: Sendable, Equatable {
    public var create: [Pod] = []
    /// Names of pods to delete.
    public var delete: [String] = []
    public var status: ModelServiceStatus
    public var events: [PlannedEvent] = []
    /// More pods are missing than this plan creates (the per-pass budget); the controller plans again once these
    /// are created.
    public var morePending = false
    /// Plan again after this long even if nothing changes (a group's recreation backoff ends then).
    public var requeueAfter: Duration?
}

/// The delay before a group that keeps failing before it becomes Ready is created again: none for its first
/// recreation (a one-off crash recovers at once), then `initial`, doubling per recreation up to `maximum`. The
/// defaults are the kubelet's CrashLoopBackOff (10 s doubling to 5 minutes).
public struct RecreationBackoff: Sendable, Equatable {
    public var initialSeconds: Int
    public var maximumSeconds: Int

    public init(initialSeconds: Int = 10, maximumSeconds: Int = 300) {
        self.initialSeconds = max(0, initialSeconds)
        self.maximumSeconds = max(self.initialSeconds, maximumSeconds)
    }

    /// Seconds to wait after the `count`-th recreation: 0 for the first, then initial × 2^(count-2), capped.
    public func delay(afterRecreations count: Int) -> Int {
        guard count >= 2 else { return 0 }
        let shift = min(count - 2, 30)
        let (scaled, overflow) = initialSeconds.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? maximumSeconds : min(scaled, maximumSeconds)
    }
}

/// An Event the controller should record.
public struct PlannedEvent: Sendable, Equatable {
    public var type: String
    public var reason: String
    public var message: String

    public init(type: String = "Normal", reason: String, message: String) {
        self.type = type
        self.reason = reason
        self.message = message
    }
}

/// The ModelService controller's decisions: groups of leader + workers, scale up and down, group recreation,
/// startup order, one-group-at-a-time rollouts, and status.
public struct ModelServicePlanner: Sendable {
    /// Most pods one plan creates; the rest wait for the next pass. Kubernetes' ReplicaSet controller uses 500
    /// (`burstReplicas`) for the same reason: the work of one pass, and what it holds in memory, stays bounded
    /// whatever the spec asks for.
    public var maxCreatesPerPass: Int
    /// Settings of the backoff between recreations of a group that keeps failing before it becomes Ready.
    public var recreation: RecreationBackoff
    /// What the pods look like on this kind of cluster.
    public var template: PodTemplateOptions
    /// Ceilings on replicas and group size. The embedded API server refuses writes beyond them; a kube-apiserver
    /// cannot (they are per cluster, not in the CRD), so the planner checks them too before acting.
    public var limits: ObjectLimits

    public init(
        maxCreatesPerPass: Int = 500, recreation: RecreationBackoff = RecreationBackoff(),
        template: PodTemplateOptions = .embedded, limits: ObjectLimits = .default
    ) {
        self.maxCreatesPerPass = max(1, maxCreatesPerPass)
        self.recreation = recreation
        self.template = template
        self.limits = limits
    }

    /// The field errors that stop the planner from acting on a service: its own validation (which a CRD schema
    /// only partly repeats) and the cluster's limits.
    public func errors(in service: ModelService) -> [FieldError] {
        let encoded = (try? JSONValue(encoding: service)) ?? .null
        return service.validate() + limits.errors(kind: ModelService.descriptor.kind, object: encoded)
    }

    /// What the accelerators ask that only DRA claims express, on a cluster whose API server does not serve them:
    /// a pod asking for `nvidia.com/gpu` cannot say which partition or which alternative, so none is made.
    func unsupportedByCluster(_ accelerators: AcceleratorSpec?) -> [FieldError] {
        guard !template.deviceClaims, let accelerators else { return [] }
        let why =
            "needs DRA (resource.k8s.io/v1), which this cluster does not serve; ask for whole devices "
            + "with type and count, or enable DRA"
        var errors: [FieldError] = []
        if accelerators.partition != nil { errors.append(FieldError("spec.accelerators.partition", why)) }
        if accelerators.firstAvailable != nil { errors.append(FieldError("spec.accelerators.firstAvailable", why)) }
        if accelerators.selector != nil { errors.append(FieldError("spec.accelerators.selector", why)) }
        return errors
    }

    /// A service that cannot be acted on keeps its pods as they are (a typo must not take serving replicas down)
    /// and says why in its conditions and a Warning Event.
    func invalidPlan(
        _ service: ModelService, errors: [FieldError], now: String, reason: String = "InvalidSpec"
    ) -> ModelServicePlan {
        let message = errors.map(\.description).joined(separator: "; ")
        var status = service.status ?? ModelServiceStatus()
        status.observedGeneration = service.metadata.generation
        var conditions = status.conditions ?? []
        let generation = service.metadata.generation
        let reported = conditions.condition("ReplicaFailure")?.message == message
        conditions.set(
            Condition(
                type: "ReplicaFailure", status: "True", reason: reason, message: message,
                observedGeneration: generation), now: now)
        conditions.set(
            Condition(
                type: "Progressing", status: "False", reason: reason,
                message: "not acting on this spec until it is fixed", observedGeneration: generation), now: now)
        status.conditions = conditions
        var plan = ModelServicePlan(status: status)
        if !reported { plan.events = [PlannedEvent(type: "Warning", reason: reason, message: message)] }
        return plan
    }

    /// Whether a failure in `state` recreates its whole group: always under `RecreateGroupOnPodRestart`; under
    /// `RecreateGroupAfterStart` once the group has started (every pod exists and none is Pending); never under
    /// `None`.
    static func recreatesWholeGroup(_ state: GroupState, policy: GroupRestartPolicy, size: Int) -> Bool {
        switch policy {
        case .recreateGroupOnPodRestart: return true
        case .recreateGroupAfterStart:
            return state.live.count == size
                && state.live.values.allSatisfy { ($0.status?.phase).map { $0 != .pending } ?? false }
        default: return false
        }
    }

    /// Groups and Ready groups per revision (a group's revision is its leader's), the update revision first.
    static func revisionCounts(
        _ groups: [GroupState], excluding gone: Set<Int>, size: Int, update: String
    ) -> [RevisionStatus]? {
        var counts: [String: RevisionStatus] = [:]
        for group in groups where !gone.contains(group.index) {
            guard let pod = group.leader ?? group.live.values.first,
                let revision = pod.metadata.labels?[WellKnown.revisionLabel]
            else { continue }
            var entry = counts[revision] ?? RevisionStatus(revision: revision, replicas: 0, readyReplicas: 0)
            entry.replicas += 1
            if group.isReady(size: size) { entry.readyReplicas += 1 }
            counts[revision] = entry
        }
        let sorted = counts.values.sorted {
            ($0.revision == update ? 0 : 1, $0.revision) < ($1.revision == update ? 0 : 1, $1.revision)
        }
        return sorted.isEmpty ? nil : sorted
    }

    struct GroupState {
        var index: Int
        var live: [Int: Pod] = [:]
        var terminating: [Pod] = []

        var leader: Pod? { live[0] }
        var isEmpty: Bool { live.isEmpty && terminating.isEmpty }
        func isReady(size: Int) -> Bool {
            terminating.isEmpty && live.count == size && live.values.allSatisfy(\.isReady)
        }
        func isUpdated(_ revision: String) -> Bool {
            !live.isEmpty && live.values.allSatisfy { $0.metadata.labels?[WellKnown.revisionLabel] == revision }
        }
    }

    public func plan(service: ModelService, pods: [Pod], now: String) -> ModelServicePlan {
        let invalid = errors(in: service)
        if !invalid.isEmpty { return invalidPlan(service, errors: invalid, now: now) }
        let unsupported = unsupportedByCluster(service.spec.accelerators)
        if !unsupported.isEmpty {
            return invalidPlan(service, errors: unsupported, now: now, reason: "DeviceClaimsUnavailable")
        }
        let spec = service.spec
        let name = service.metadata.nameOrEmpty
        let desired = spec.desiredReplicas
        let size = spec.groupSize
        let revision = GroupPodBuilder.revision(of: spec)
        let builder = GroupPodBuilder(service: service, revision: revision, options: template)
        let restartPolicy = spec.group?.restartPolicy ?? .recreateGroupOnPodRestart
        let startupPolicy = spec.group?.startupPolicy ?? .leaderCreated
        let bounds = RolloutBounds(spec.rollout, replicas: desired)
        let previous = service.status ?? ModelServiceStatus()
        // The template groups below the partition keep: the one recorded with the current revision, when it is
        // another revision and the record still hashes to it.
        let current = previous.currentRevision ?? revision
        var keptBuilder: GroupPodBuilder?
        if current != revision, let kept = previous.keptTemplate, kept.revision == current {
            var old = service
            old.spec = kept.spec
            keptBuilder = GroupPodBuilder(service: old, revision: current, options: template)
        }

        var groups: [Int: GroupState] = [:]
        for pod in pods {
            guard let labels = pod.metadata.labels, labels[WellKnown.modelServiceLabel] == name,
                let g = labels[WellKnown.groupIndexLabel].flatMap(Int.init),
                let w = labels[WellKnown.workerIndexLabel].flatMap(Int.init)
            else { continue }
            var state = groups[g] ?? GroupState(index: g)
            if pod.metadata.deletionTimestamp != nil {
                state.terminating.append(pod)
            } else {
                state.live[w] = pod
            }
            groups[g] = state
        }

        var plan = ModelServicePlan(status: ModelServiceStatus())
        var deleted = Set<String>()
        func deleteGroup(_ state: GroupState) {
            for pod in state.live.values.sorted(by: { $0.metadata.nameOrEmpty < $1.metadata.nameOrEmpty }) {
                let n = pod.metadata.nameOrEmpty
                if deleted.insert(n).inserted { plan.delete.append(n) }
            }
        }

        // Groups that must be recreated because a pod failed or restarted. Each recreation is counted until the group
        // is Ready again, and the count sets how long the next creation of the group waits.
        let nowDate = Timestamp.parse(now)
        let reach = desired + bounds.maxSurge
        var recreations: [Int: GroupRecreation] = [:]
        for r in previous.groupRecreations ?? [] where r.index < reach { recreations[r.index] = r }
        var recreating = Set<Int>()
        for g in 0..<reach {
            guard let state = groups[g] else { continue }
            let failed = state.live.values.filter { pod in
                pod.status?.phase == .failed || (restartPolicy != .none && pod.restartCount > 0)
            }
            if failed.isEmpty { continue }
            if Self.recreatesWholeGroup(state, policy: restartPolicy, size: size) {
                recreating.insert(g)
                deleteGroup(state)
                recreations[g] = GroupRecreation(index: g, count: (recreations[g]?.count ?? 0) + 1, lastTime: now)
                let who = failed.map(\.metadata.nameOrEmpty).sorted().joined(separator: ", ")
                plan.events.append(
                    PlannedEvent(
                        type: "Warning", reason: "RecreatingGroup",
                        message: "Recreating group \(g): pod \(who) failed or restarted"))
            } else {
                for pod in failed where pod.status?.phase == .failed {
                    let n = pod.metadata.nameOrEmpty
                    if deleted.insert(n).inserted { plan.delete.append(n) }
                }
            }
        }
        // Groups whose next creation the backoff still holds back, with when it may happen.
        var backingOff: [Int: Date] = [:]
        for (g, r) in recreations where !recreating.contains(g) && groups[g]?.isEmpty ?? true {
            guard let nowDate, let last = Timestamp.parse(r.lastTime) else { continue }
            let notBefore = last.addingTimeInterval(Double(recreation.delay(afterRecreations: r.count)))
            if notBefore > nowDate { backingOff[g] = notBefore }
        }
        if let nowDate, let soonest = backingOff.values.min() {
            plan.requeueAfter = .milliseconds(Int(soonest.timeIntervalSince(nowDate) * 1000) + 1)
        }

        // Rollout: which outdated groups to replace now, and how many surge groups to keep above `desired`.
        let rolloutGroups = groups.values.filter { !$0.live.isEmpty && !recreating.contains($0.index) }.map {
            RolloutGroup(index: $0.index, updated: $0.isUpdated(revision), ready: $0.isReady(size: size))
        }
        let step = RolloutStep.plan(
            groups: rolloutGroups, bounds: bounds, settled: previous.currentRevision == revision)
        let surgeEnd = desired + step.surge

        // Scale down: groups beyond the desired count go, highest index first, but for the surge groups the rollout
        // keeps (at the update revision).
        for g in groups.keys.sorted(by: >) where g >= desired {
            let state = groups[g]!
            let keptSurge = g < surgeEnd && state.isUpdated(revision)
            if !state.live.isEmpty && !keptSurge && !recreating.contains(g) {
                deleteGroup(state)
                let why =
                    step.rolling && g < desired + bounds.maxSurge
                    ? "surge group no longer needed" : "scaled to \(desired)"
                plan.events.append(PlannedEvent(reason: "DeletedGroup", message: "Deleted group \(g) (\(why))"))
            }
        }
        for g in step.replace {
            deleteGroup(groups[g]!)
            recreating.insert(g)
            plan.events.append(
                PlannedEvent(reason: "RollingGroup", message: "Replacing group \(g) with revision \(revision)"))
        }

        // Create what is missing in groups that are not being torn down, lowest group first, up to the budget.
        // Groups below the partition are created at the template they keep.
        var createdGroups: [Int] = []
        var deferred = false
        creating: for g in 0..<surgeEnd where !recreating.contains(g) && backingOff[g] == nil {
            let state = groups[g] ?? GroupState(index: g)
            if !state.terminating.isEmpty { continue }
            var missing: [Int] = []
            if state.leader == nil { missing.append(0) }
            let leaderReady = state.leader?.isReady ?? false
            if size > 1 && (startupPolicy == .leaderCreated || leaderReady) {
                missing += (1..<size).filter { state.live[$0] == nil }
            }
            let groupBuilder = g < bounds.partition ? keptBuilder ?? builder : builder
            for w in missing {
                if plan.create.count >= maxCreatesPerPass {
                    deferred = true
                    break creating
                }
                plan.create.append(groupBuilder.pod(group: g, worker: w))
            }
            if !missing.isEmpty && state.isEmpty { createdGroups.append(g) }
        }
        plan.morePending = deferred
        if !createdGroups.isEmpty {
            let list = createdGroups.map(String.init).joined(separator: ", ")
            let surgeNote = createdGroups.contains { $0 >= desired } ? ", surge for the rollout above \(desired)" : ""
            plan.events.append(
                PlannedEvent(
                    reason: "CreatedGroup",
                    message:
                        "Created group\(createdGroups.count > 1 ? "s" : "") \(list) (\(size) pod\(size > 1 ? "s" : "") each\(surgeNote))"
                ))
        }

        // Status.
        let existing = groups.values.filter { !$0.live.isEmpty }
        func isReady(_ g: Int) -> Bool { !recreating.contains(g) && (groups[g]?.isReady(size: size) ?? false) }
        func isUpdated(_ g: Int) -> Bool { !recreating.contains(g) && (groups[g]?.isUpdated(revision) ?? false) }
        let ready = (0..<desired).filter(isReady).count
        // Surge groups serve while they exist, so they count towards availability.
        let readySurge = (desired..<max(desired, surgeEnd)).filter { isReady($0) && isUpdated($0) }.count
        let updated = (0..<desired).filter(isUpdated).count
        let updatedReady = (0..<desired).filter { isUpdated($0) && isReady($0) }.count
        let rangeDone = (bounds.partition..<desired).allSatisfy { isUpdated($0) && isReady($0) }
        var status = previous
        status.observedGeneration = service.metadata.generation
        status.replicas = existing.count
        status.readyReplicas = ready
        status.updatedReplicas = updated
        status.updatedReadyReplicas = updatedReady
        status.selector = "\(WellKnown.modelServiceLabel)=\(name)"
        // The current revision becomes the update revision once every group has it and is Ready (or there are none
        // to keep); until then it stays what groups below the partition keep.
        let settled = updatedReady == desired && !step.rolling
        status.currentRevision = settled || previous.currentRevision == nil ? revision : current
        status.updateRevision = revision
        let currentSpec =
            status.currentRevision == revision ? GroupPodBuilder.shapingPart(of: spec) : keptBuilder?.service.spec
        status.currentTemplate = currentSpec.map(TemplateSnapshot.init)
        status.revisions = Self.revisionCounts(existing, excluding: recreating, size: size, update: revision)
        for (g, _) in recreations where !recreating.contains(g) && groups[g]?.isReady(size: size) == true {
            recreations[g] = nil
        }
        // A group above the desired and surge count is not made again: its count must not hold back the next
        // surge group at its index.
        for g in recreations.keys where g >= surgeEnd { recreations[g] = nil }
        status.groupRecreations = recreations.isEmpty ? nil : recreations.values.sorted { $0.index < $1.index }
        var conditions = status.conditions ?? []
        if backingOff.isEmpty {
            conditions.removeAll { $0.type == "ReplicaFailure" }
        } else {
            let list = backingOff.keys.sorted().map { g in
                "group \(g) failed \(recreations[g]?.count ?? 0) times before becoming ready; next attempt at "
                    + Timestamp.format(backingOff[g] ?? Date())
            }
            conditions.set(
                Condition(
                    type: "ReplicaFailure", status: "True", reason: "GroupCrashLoop",
                    message: list.joined(separator: "; "), observedGeneration: service.metadata.generation),
                now: now)
        }
        let available = ready + readySurge >= desired
        let wasAvailable = conditions.condition("Available")?.isTrue
        conditions.set(
            Condition(
                type: "Available", status: available ? "True" : "False",
                reason: desired == 0 ? "ScaledToZero" : (available ? "AllGroupsReady" : "GroupsNotReady"),
                message: "\(min(ready + readySurge, desired))/\(desired) groups ready",
                observedGeneration: service.metadata.generation),
            now: now)
        let converged =
            available && plan.create.isEmpty && plan.delete.isEmpty && existing.count == desired && rangeDone
            && groups.values.allSatisfy({ $0.terminating.isEmpty })
        let progressingReason: String
        if converged {
            progressingReason = "Complete"
        } else if step.rolling {
            progressingReason = "RollingUpdate"
        } else if !backingOff.isEmpty {
            progressingReason = "GroupCrashLoop"
        } else if !recreating.isEmpty {
            progressingReason = "RecreatingGroup"
        } else if existing.count < desired || !plan.create.isEmpty {
            progressingReason = "ScalingUp"
        } else if existing.count > desired {
            progressingReason = "ScalingDown"
        } else {
            progressingReason = "WaitingForReady"
        }
        conditions.set(
            Condition(
                type: "Progressing", status: converged ? "False" : "True", reason: progressingReason,
                message: converged
                    ? "\(desired) group\(desired == 1 ? "" : "s") ready at revision \(revision)"
                        + (bounds.partition > 0 && updated < desired
                            ? "; groups below partition \(bounds.partition) keep theirs" : "")
                    : "\(ready)/\(desired) groups ready, \(updated) at revision \(revision)"
                        + (step.surge > 0 ? ", \(step.surge) surge" : ""),
                observedGeneration: service.metadata.generation),
            now: now)
        status.conditions = conditions
        if wasAvailable != available && !(wasAvailable == nil && !available) {
            plan.events.append(
                available
                    ? PlannedEvent(reason: "Available", message: "All \(desired) groups are ready")
                    : PlannedEvent(type: "Warning", reason: "Unavailable", message: "\(ready)/\(desired) groups ready"))
        }
        plan.status = status
        return plan
    }
}
