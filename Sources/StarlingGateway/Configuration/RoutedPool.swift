import StarlingAPI

/// A pool as `starling up` derives it from a ModelService: its name, the models it serves (the model name and
/// the adapters), and the addresses of its Ready replicas' leaders.
public struct RoutedPool: Sendable, Equatable {
    public var name: String
    public var models: [String]
    public var endpoints: [EndpointAddress]
    public var criticality: Criticality?
    /// How long and how many requests are held while no endpoint is ready (from the ModelService's `routing`);
    /// nil keeps the pool settings' defaults.
    public var holdTimeout: Duration?
    public var maxHeld: Int?

    public init(
        name: String, models: [String], endpoints: [EndpointAddress], criticality: Criticality? = nil,
        holdTimeout: Duration? = nil, maxHeld: Int? = nil
    ) {
        self.name = name
        self.models = models
        self.endpoints = endpoints
        self.criticality = criticality
        self.holdTimeout = holdTimeout
        self.maxHeld = maxHeld
    }

    /// One pool per ModelService (named `name`, or `namespace/name` outside the default namespace). Endpoints
    /// are the leader pods (worker 0) that are Ready, have a `status.podIP` and are not being deleted, at their
    /// container port named `http` (else the first declared); a pod that stops being one of these is drained by
    /// the gateway. Only standard fields are read, so the same code serves a Kubernetes cluster.
    public static func pools(services: [ModelService], pods: [Pod]) -> [RoutedPool] {
        var endpointsByService: [String: [EndpointAddress]] = [:]
        for pod in pods {
            let labels = pod.metadata.labels ?? [:]
            guard let owner = labels[WellKnown.modelServiceLabel], labels[WellKnown.workerIndexLabel] ?? "0" == "0",
                pod.isReady, pod.metadata.deletionTimestamp == nil, let ip = pod.status?.podIP, !ip.isEmpty,
                let port = pod.servingPort
            else { continue }
            let key = key(namespace: pod.metadata.namespace, name: owner)
            endpointsByService[key, default: []].append(EndpointAddress(host: ip, port: port))
        }
        return services.filter { $0.metadata.deletionTimestamp == nil }.map { service in
            let name = key(namespace: service.metadata.namespace, name: service.metadata.nameOrEmpty)
            let models = [service.spec.model] + (service.spec.adapters ?? []).map(\.name)
            let routing = service.spec.routing
            let criticality = routing?.criticality.flatMap { Criticality(name: $0.rawValue) }
            return RoutedPool(
                name: name, models: models, endpoints: (endpointsByService[name] ?? []).sorted { $0.id < $1.id },
                criticality: criticality,
                holdTimeout: .seconds(routing?.holdTimeoutSeconds ?? RoutingSpec.defaultHoldTimeoutSeconds),
                maxHeld: routing?.maxHeldRequests ?? RoutingSpec.defaultMaxHeldRequests)
        }.sorted { $0.name < $1.name }
    }

    /// The criticality each pool's model name carries.
    public static func objectives(_ pools: [RoutedPool]) -> ObjectiveTable {
        var table = ObjectiveTable()
        for pool in pools {
            guard let criticality = pool.criticality, let model = pool.models.first else { continue }
            table.models[model] = .init(objective: pool.name, criticality: criticality)
        }
        return table
    }

    /// The pool name of a ModelService or InferencePool: `name` in the default namespace, else `namespace/name`.
    public static func key(namespace: String?, name: String) -> String {
        let namespace = namespace ?? WellKnown.defaultNamespace
        return namespace == WellKnown.defaultNamespace ? name : "\(namespace)/\(name)"
    }
}
