/// First stage of a scheduling profile: narrows the candidates. A filter that would leave none keeps them all
/// (filters state preferences; which endpoints may serve at all is decided before the profile runs).
public protocol EndpointFilter: Sendable {
    /// The name used in configuration files and logs.
    var name: String { get }
    /// The indices of `endpoints` that pass.
    func filter(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Int]
}
