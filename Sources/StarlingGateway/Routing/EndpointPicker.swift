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
    public var random: SplitMix64
    public var turn: UInt64 = 0

    public init(seed: UInt64) { random = SplitMix64(seed: seed) }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
