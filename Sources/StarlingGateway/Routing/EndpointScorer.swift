/// Second stage of a scheduling profile: rates each candidate between 0 (worst) and 1 (best). The profile adds
/// the scores up with per-scorer weights.
public protocol EndpointScorer: Sendable {
    /// The name used in configuration files, logs and metrics.
    var name: String { get }
    /// One score in 0...1 per endpoint, in order.
    func scores(_ request: RoutingRequest, _ endpoints: [EndpointSnapshot]) -> [Double]
}
