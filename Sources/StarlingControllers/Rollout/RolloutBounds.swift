import StarlingAPI

/// `spec.rollout` resolved against the desired replica count: the numbers every rollout step obeys. The unit is a
/// whole group, as in LeaderWorkerSet.
public struct RolloutBounds: Sendable, Equatable {
    /// Desired groups.
    public var replicas: Int
    /// Groups that may be unavailable at once.
    public var maxUnavailable: Int
    /// Groups that may exist above `replicas` while the rollout runs.
    public var maxSurge: Int
    /// Lowest group index the rollout updates.
    public var partition: Int

    public init(replicas: Int, maxUnavailable: Int, maxSurge: Int, partition: Int) {
        self.replicas = max(0, replicas)
        self.maxUnavailable = max(0, maxUnavailable)
        self.maxSurge = max(0, maxSurge)
        self.partition = partition
    }

    /// The bounds `rollout` sets for `replicas` groups.
    public init(_ rollout: RolloutSpec?, replicas: Int) {
        let replicas = max(0, replicas)
        var unavailable = Self.scaled(rollout?.maxUnavailable, of: replicas, roundingUp: false) ?? 1
        let surge = min(Self.scaled(rollout?.maxSurge, of: replicas, roundingUp: true) ?? 0, replicas)
        // Both 0 (a percentage of a few groups) would stop the rollout for good; one group may go, as a
        // Deployment's rollout also allows.
        if unavailable == 0 && surge == 0 { unavailable = 1 }
        self.init(
            replicas: replicas, maxUnavailable: unavailable, maxSurge: surge,
            partition: Self.partition(rollout?.partition, replicas: replicas))
    }

    /// A count as given; a percentage `p%` of `total` as ⌊p × total / 100⌋ (maxUnavailable) or ⌈p × total / 100⌉
    /// (maxSurge), so that a percentage never lets more groups go than it names, and a surge of any percentage
    /// of at least one group is at least one group. Nil for a value validation refuses.
    public static func scaled(_ value: IntOrString?, of total: Int, roundingUp: Bool) -> Int? {
        switch value {
        case nil: return nil
        case .int(let count)?: return count >= 0 ? count : nil
        case .string(let text)?:
            guard let percent = RolloutSpec.percentage(text), percent <= 100 else { return nil }
            let product = percent * total
            return roundingUp ? (product + 99) / 100 : product / 100
        }
    }

    /// partition clamped to 0...replicas: a partition at or above `replicas` holds every group at its template
    /// (a paused rollout), which is what a larger one means too.
    public static func partition(_ value: Int?, replicas: Int) -> Int { min(max(value ?? 0, 0), replicas) }

    /// Groups that may be taken down now: ready − (replicas − maxUnavailable), never below 0. `ready` counts every
    /// Ready group, surge groups included, since they serve too.
    public func disruptionBudget(ready: Int) -> Int { max(0, ready - (replicas - maxUnavailable)) }

    /// Surge groups wanted: one per group of the rollout's range (partition..<replicas) not yet updated and Ready,
    /// up to maxSurge, while the rollout runs; none once it ends, so surge groups go when their work is done.
    public func surgeGroups(pending: Int, rolling: Bool) -> Int { rolling ? min(maxSurge, max(0, pending)) : 0 }
}
