/// Each endpoint in turn, ignoring scores. The turn is kept in the pool's `PickState`, and endpoints are taken
/// in id order, so the rotation is stable while endpoints come and go.
public struct RoundRobinPicker: EndpointPicker {
    public init() {}

    public var name: String { "round-robin" }

    public func pick(_ scores: [Double], _ endpoints: [EndpointSnapshot], state: inout PickState) -> Int {
        let order = endpoints.indices.sorted { endpoints[$0].id < endpoints[$1].id }
        let chosen = order[Int(state.turn % UInt64(order.count))]
        state.turn &+= 1
        return chosen
    }
}
