/// Power of two choices: samples two different endpoints at random and takes the one with the higher score
/// (a coin decides ties). Spreads load like least-loaded without herding every request onto one endpoint
/// when scores are stale.
public struct PowerOfTwoPicker: EndpointPicker {
    public init() {}

    public var name: String { "power-of-two" }

    public func pick(_ scores: [Double], _ endpoints: [EndpointSnapshot], state: inout PickState) -> Int {
        let n = UInt64(scores.count)
        guard n > 1 else { return 0 }
        let a = Int(state.random.next() % n)
        var b = Int(state.random.next() % (n - 1))
        if b >= a { b += 1 }
        if abs(scores[a] - scores[b]) <= 1e-9 { return state.random.next() & 1 == 0 ? a : b }
        return scores[a] > scores[b] ? a : b
    }
}
