import StarlingTokenizer

/// Last stage of a scheduling profile: chooses one candidate from the weighted total scores.
public protocol EndpointPicker: Sendable {
    /// The name used in configuration files and logs.
    var name: String { get }
    /// The index of the chosen endpoint; `scores` and `endpoints` are non-empty and of equal length.
    func pick(_ scores: [Double], _ endpoints: [EndpointSnapshot], state: inout PickState) -> Int
}

/// What pickers may change between picks: the random numbers and the round-robin position. Kept per pool by
/// the gateway; seeded in tests so picks are reproducible.
public struct PickState: Sendable {
    public var random: SeededRandom
    public var turn: UInt64 = 0

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }
}
