/// One group as the rollout sees it.
public struct RolloutGroup: Sendable, Equatable {
    /// The group's index.
    public var index: Int
    /// Every pod of the group runs the update revision.
    public var updated: Bool
    /// Every pod of the group is Ready (and none is terminating).
    public var ready: Bool

    public init(index: Int, updated: Bool, ready: Bool) {
        self.index = index
        self.updated = updated
        self.ready = ready
    }
}

/// What one pass of a rollout does, decided from the groups that exist and the bounds, with no I/O: which groups
/// to replace (delete, to be created again at the update revision) and how many surge groups to keep.
public struct RolloutStep: Sendable, Equatable {
    /// Groups to replace now, in the order chosen.
    public var replace: [Int]
    /// Surge groups wanted, at indices replicas ..< replicas + surge.
    public var surge: Int
    /// Whether groups of the rollout's range still run another revision.
    public var rolling: Bool

    public init(replace: [Int] = [], surge: Int = 0, rolling: Bool = false) {
        self.replace = replace
        self.surge = surge
        self.rolling = rolling
    }

    /// The step for `groups` (the live groups that are not being torn down, any index) under `bounds`; `settled`
    /// says the last pass found the rollout done (every group at the update revision and Ready).
    ///
    /// - The range is partition..<replicas; groups below the partition keep their template.
    /// - The rollout runs while a group of the range is outdated, or, until it has settled, while surge groups
    ///   remain and a group of the range is not yet updated and Ready.
    /// - An outdated group that is not Ready is replaced at once: it serves nothing, so replacing it costs no
    ///   availability, and a rollout whose old groups all fail would otherwise never move.
    /// - Ready outdated groups are replaced highest index first, as many as the disruption budget allows.
    public static func plan(groups: [RolloutGroup], bounds: RolloutBounds, settled: Bool = false) -> RolloutStep {
        let range = bounds.partition..<bounds.replicas
        let inRange = groups.filter { range.contains($0.index) }
        let outdated = inRange.filter { !$0.updated }
        let pending = range.count - inRange.filter { $0.updated && $0.ready }.count
        let surgeExists = groups.contains { $0.index >= bounds.replicas }
        let rolling = !outdated.isEmpty || (!settled && surgeExists && pending > 0)
        var step = RolloutStep(surge: bounds.surgeGroups(pending: pending, rolling: rolling), rolling: rolling)
        guard !outdated.isEmpty else { return step }
        // Surge groups being removed this pass no longer count towards what is Ready.
        let kept = bounds.replicas + step.surge
        var budget = bounds.disruptionBudget(ready: groups.filter { $0.ready && $0.index < kept }.count)
        for group in outdated.sorted(by: { $0.index > $1.index }) {
            if !group.ready {
                step.replace.append(group.index)
            } else if budget > 0 {
                step.replace.append(group.index)
                budget -= 1
            }
        }
        return step
    }
}
