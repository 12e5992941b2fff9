import StarlingAPI
import Testing

@testable import StarlingControllers

@Suite struct RolloutBoundsTests {
    /// (maxUnavailable, maxSurge, partition, replicas) → (unavailable, surge, partition).
    @Test(
        arguments: [
            // Defaults: one group at a time, no surge.
            (nil, nil, nil, 4, 1, 0, 0),
            (IntOrString.int(2), IntOrString.int(2), nil, 4, 2, 2, 0),
            // Percentages: unavailable rounds down, surge rounds up.
            (.string("25%"), .string("25%"), nil, 10, 2, 3, 0),
            (.string("50%"), .string("10%"), nil, 3, 1, 1, 0),
            // Both round to 0 on a small count: one group may go, or the rollout would never move.
            (.string("10%"), .string("0%"), nil, 3, 1, 0, 0),
            (.int(0), .string("0%"), nil, 5, 1, 0, 0),
            // A surge larger than the service is capped at its size.
            (.int(0), .int(10), nil, 3, 0, 3, 0),
            (.int(0), .string("100%"), nil, 1, 0, 1, 0),
            // The partition is clamped to 0...replicas.
            (nil, nil, 2, 4, 1, 0, 2),
            (nil, nil, 9, 4, 1, 0, 4),
            (nil, nil, 3, 0, 1, 0, 0),
        ] as [(IntOrString?, IntOrString?, Int?, Int, Int, Int, Int)])
    func boundsResolveAgainstReplicas(
        unavailable: IntOrString?, surge: IntOrString?, partition: Int?, replicas: Int, wantUnavailable: Int,
        wantSurge: Int, wantPartition: Int
    ) {
        let bounds = RolloutBounds(
            RolloutSpec(maxUnavailable: unavailable, maxSurge: surge, partition: partition), replicas: replicas)
        #expect(bounds.maxUnavailable == wantUnavailable)
        #expect(bounds.maxSurge == wantSurge)
        #expect(bounds.partition == wantPartition)
    }

    /// (ready, replicas, maxUnavailable) → groups that may go now.
    @Test(arguments: [(4, 4, 1, 1), (4, 4, 2, 2), (3, 4, 1, 0), (2, 4, 1, 0), (5, 4, 0, 1), (0, 0, 1, 1)])
    func disruptionBudgetKeepsReplicasMinusUnavailableReady(ready: Int, replicas: Int, unavailable: Int, want: Int) {
        let bounds = RolloutBounds(replicas: replicas, maxUnavailable: unavailable, maxSurge: 0, partition: 0)
        #expect(bounds.disruptionBudget(ready: ready) == want)
    }

    /// A compact group list: `u` updated and Ready, `o` outdated and Ready, `x` outdated not Ready, `n` updated
    /// not Ready, `-` missing; the position is the index.
    static func groups(_ layout: String) -> [RolloutGroup] {
        layout.enumerated().compactMap { index, c in
            switch c {
            case "u": RolloutGroup(index: index, updated: true, ready: true)
            case "o": RolloutGroup(index: index, updated: false, ready: true)
            case "x": RolloutGroup(index: index, updated: false, ready: false)
            case "n": RolloutGroup(index: index, updated: true, ready: false)
            default: nil
            }
        }
    }

    @Test(
        arguments: [
            // Default bounds: the highest outdated group first, one at a time.
            ("oooo", 4, 1, 0, 0, [3], 0),
            ("ooon", 4, 1, 0, 0, [], 0),
            ("ooou", 4, 1, 0, 0, [2], 0),
            // maxUnavailable 2, maxSurge 2 (LeaderWorkerSet's documented case): two replaced and two surge at once.
            ("oooo", 4, 2, 2, 0, [3, 2], 2),
            ("oonnnn", 4, 2, 2, 0, [], 2),
            // A Ready surge group lets one more go: 0, 1 and 4 serve, and two must.
            ("oonnun", 4, 2, 2, 0, [1], 2),
            ("oouuun", 4, 2, 2, 0, [1, 0], 2),
            ("oouuuu", 4, 2, 2, 0, [1, 0], 2),
            ("nnuuuu", 4, 2, 2, 0, [], 2),
            ("unuuuu", 4, 2, 2, 0, [], 1),
            // The surge goes once the range is updated and Ready.
            ("uuuuuu", 4, 2, 2, 0, [], 0),
            // maxSurge with one replica and no unavailability: the surge group first, the old group once it serves.
            ("o", 1, 0, 1, 0, [], 1),
            ("on", 1, 0, 1, 0, [], 1),
            ("ou", 1, 0, 1, 0, [0], 1),
            ("nu", 1, 0, 1, 0, [], 1),
            ("uu", 1, 0, 1, 0, [], 0),
            // Outdated groups that are not Ready are replaced at once, whatever the budget.
            ("xxxx", 4, 0, 1, 0, [3, 2, 1, 0], 1),
            ("oxox", 4, 1, 0, 0, [3, 1], 0),
            // A partition keeps the groups below it.
            ("oooo", 4, 1, 0, 2, [3], 0),
            ("ooun", 4, 1, 0, 2, [], 0),
            ("oouu", 4, 1, 0, 2, [], 0),
            ("oooo", 4, 1, 0, 4, [], 0),
        ] as [(String, Int, Int, Int, Int, [Int], Int)])
    func stepReplacesWithinTheBounds(
        layout: String, replicas: Int, unavailable: Int, surge: Int, partition: Int, replace: [Int], wantSurge: Int
    ) {
        let bounds = RolloutBounds(
            replicas: replicas, maxUnavailable: unavailable, maxSurge: surge, partition: partition)
        let step = RolloutStep.plan(groups: Self.groups(layout), bounds: bounds)
        #expect(step.replace == replace, "\(layout)")
        #expect(step.surge == wantSurge, "\(layout)")
    }

    @Test func aSettledServiceKeepsNoSurgeForAGroupThatFails() {
        let bounds = RolloutBounds(replicas: 2, maxUnavailable: 1, maxSurge: 1, partition: 0)
        // A scale-down leaves group 2 above the count while group 1 restarts: it is not a surge.
        let groups = Self.groups("unu")
        #expect(RolloutStep.plan(groups: groups, bounds: bounds, settled: true).surge == 0)
        #expect(RolloutStep.plan(groups: groups, bounds: bounds, settled: false).surge == 1)
    }
}
