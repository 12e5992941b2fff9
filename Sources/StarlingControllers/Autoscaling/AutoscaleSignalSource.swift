import StarlingAPI

/// Where the autoscaler reads a ModelService's load: the gateway in the same process (`starling up`), or scrapes of
/// the replicas and the gateways (a cluster).
public protocol AutoscaleSignalSource: Sendable {
    /// The load of `service`, whose Ready leaders serve at `endpoints` (`host:port`); nil when unknown (no pool
    /// for it yet), in which case the autoscaler leaves the service alone.
    func load(of service: ModelService, endpoints: [String]) async -> ObservedLoad?
}

/// A service's load as a signal source sees it.
public struct ObservedLoad: Sendable, Equatable {
    /// The load of each endpoint that reports, by `host:port`; an endpoint without a report yet counts as
    /// starting.
    public var replicas: [String: AutoscaleSignals.Replica]
    /// Requests held at the gateway for the service.
    public var held: Int
    /// How long the service has had no request at all; nil while it has some.
    public var idleFor: Duration?
    /// Requests received and finished at the gateways, cumulative; nil where unknown.
    public var arrivals: Int?
    public var completions: Int?

    public init(
        replicas: [String: AutoscaleSignals.Replica], held: Int, idleFor: Duration?, arrivals: Int? = nil,
        completions: Int? = nil
    ) {
        self.replicas = replicas
        self.held = held
        self.idleFor = idleFor
        self.arrivals = arrivals
        self.completions = completions
    }
}
