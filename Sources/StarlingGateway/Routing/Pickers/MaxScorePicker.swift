/// Takes the highest total score; endpoints tied for it (within a rounding error) are chosen between at
/// random, so equal endpoints share new work instead of the first one taking all of it.
public struct MaxScorePicker: EndpointPicker {
    public init() {}

    public var name: String { "max-score" }

    public func pick(_ scores: [Double], _ endpoints: [EndpointSnapshot], state: inout PickState) -> Int {
        guard let best = scores.max() else { return 0 }
        let tied = scores.indices.filter { scores[$0] >= best - 1e-9 }
        return tied.count == 1 ? tied[0] : tied[Int(state.random.next() % UInt64(tied.count))]
    }
}
