/// Any endpoint, uniformly at random, ignoring scores.
public struct RandomPicker: EndpointPicker {
    public init() {}

    public var name: String { "random" }

    public func pick(_ scores: [Double], _ endpoints: [EndpointSnapshot], state: inout PickState) -> Int {
        Int(state.random.next() % UInt64(endpoints.count))
    }
}
