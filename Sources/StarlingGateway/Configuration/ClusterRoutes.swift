import StarlingAPI

/// What a gateway routes, derived from a cluster's objects: one pool per ModelService and one per InferencePool,
/// and the objectives and model rewrites that apply to them. A pure function of the objects, so discovery (the
/// thin watch loop in `ClusterPoolSource`) and its tests share it.
public struct ClusterRoutes: Sendable, Equatable {
    public var pools: [RoutedPool]
    public var objectives: ObjectiveTable
    /// What could not be honoured as written (two objects claiming one name, a reference to a missing pool), one
    /// line each, for the log; the rest still routes.
    public var problems: [String]

    /// Objects of the Gateway API Inference Extension, as discovered (empty when the cluster does not serve them).
    public struct InferenceObjects: Sendable, Equatable {
        public var pools: [InferencePool]
        public var objectives: [InferenceObjective]
        public var rewrites: [InferenceModelRewrite]

        public init(
            pools: [InferencePool] = [], objectives: [InferenceObjective] = [], rewrites: [InferenceModelRewrite] = []
        ) {
            self.pools = pools
            self.objectives = objectives
            self.rewrites = rewrites
        }
    }

    /// The routes for these objects.
    ///
    /// - An InferencePool's endpoints are its namespace's pods whose labels include every `matchLabels` pair, that
    ///   are Ready, have a `status.podIP` and are not being deleted: one endpoint per pod and target port. Its
    ///   models are what the endpoints list at `/v1/models`. A pool is named like a ModelService's (`name`, or
    ///   `namespace/name` outside the default namespace); where both kinds claim a name, the InferencePool's
    ///   selector wins, as the pool the user declared for routing.
    /// - An InferenceObjective names a priority the `x-gateway-inference-objective` header chooses; one whose
    ///   pool is missing is left out. The gateway's objectives are one table: where two pools define an objective
    ///   of the same name with different priorities, the first by namespace/name wins.
    /// - An InferenceModelRewrite's rules map requested model names to weighted targets; the first rewrite (by
    ///   namespace/name) to claim a model name, or the fallback of rules without matches, wins.
    public static func plan(services: [ModelService], inference: InferenceObjects, pods: [Pod]) -> ClusterRoutes {
        var problems: [String] = []
        let declared = inference.pools.filter { $0.metadata.deletionTimestamp == nil }
        var poolNames = Set<String>()
        var pools: [RoutedPool] = []
        for pool in declared.sorted(by: { $0.key < $1.key }) {
            let name = RoutedPool.key(namespace: pool.metadata.namespace, name: pool.metadata.nameOrEmpty)
            poolNames.insert(name)
            pools.append(RoutedPool(name: name, models: [], endpoints: endpoints(of: pool, pods: pods)))
        }
        for pool in RoutedPool.pools(services: services, pods: pods) {
            if poolNames.contains(pool.name) {
                problems.append(
                    "ModelService \(pool.name) and InferencePool \(pool.name) share a pool name: "
                        + "the InferencePool's selector decides the endpoints")
                continue
            }
            poolNames.insert(pool.name)
            pools.append(pool)
        }
        pools.sort { $0.name < $1.name }
        var table = RoutedPool.objectives(pools)
        var owners: [String: String] = [:]
        for objective in inference.objectives.sorted(by: { $0.key < $1.key }) {
            let pool = RoutedPool.key(namespace: objective.metadata.namespace, name: objective.spec.poolRef.name)
            guard poolNames.contains(pool) else {
                problems.append("InferenceObjective \(objective.key): InferencePool \(pool) not found; not applied")
                continue
            }
            let name = objective.metadata.nameOrEmpty
            let criticality = Criticality(priority: objective.spec.priority ?? 0)
            if let existing = table.objectives[name], existing != criticality {
                problems.append(
                    "InferenceObjective \(objective.key): objective \"\(name)\" is already defined by "
                        + "\(owners[name] ?? "another pool") with another priority; not applied")
                continue
            }
            table.objectives[name] = criticality
            owners[name] = objective.key
        }
        var ruleOwners: [String: String] = [:]
        for rewrite in inference.rewrites.sorted(by: { $0.key < $1.key }) {
            let pool = RoutedPool.key(namespace: rewrite.metadata.namespace, name: rewrite.spec.poolRef.name)
            guard poolNames.contains(pool) else {
                problems.append("InferenceModelRewrite \(rewrite.key): InferencePool \(pool) not found; not applied")
                continue
            }
            for rule in rewrite.spec.rules {
                let targets = rule.targets.map { ObjectiveTable.Target(model: $0.modelRewrite, weight: $0.weight ?? 1) }
                let names = (rule.matches ?? []).map(\.model.value)
                if names.isEmpty {
                    if let owner = ruleOwners[""], owner != rewrite.key {
                        problems.append(
                            "InferenceModelRewrite \(rewrite.key): the rule for every other model is already "
                                + "defined by \(owner); not applied")
                    } else if table.fallback == nil {
                        table.fallback = ObjectiveTable.ModelRule(targets: targets)
                        ruleOwners[""] = rewrite.key
                    }
                }
                for name in names {
                    if let owner = ruleOwners[name] {
                        if owner != rewrite.key {
                            problems.append(
                                "InferenceModelRewrite \(rewrite.key): model \"\(name)\" is already rewritten by "
                                    + "\(owner); not applied")
                        }
                        continue
                    }
                    var rule = table.models[name] ?? ObjectiveTable.ModelRule()
                    rule.targets = targets
                    table.models[name] = rule
                    ruleOwners[name] = rewrite.key
                }
            }
        }
        return ClusterRoutes(pools: pools, objectives: table, problems: problems)
    }

    /// The endpoints of an InferencePool: each target port of each Ready, addressed pod its selector matches.
    static func endpoints(of pool: InferencePool, pods: [Pod]) -> [EndpointAddress] {
        let namespace = pool.metadata.namespace ?? WellKnown.defaultNamespace
        let wanted = pool.spec.selector.matchLabels
        var endpoints: [EndpointAddress] = []
        for pod in pods where (pod.metadata.namespace ?? WellKnown.defaultNamespace) == namespace {
            let labels = pod.metadata.labels ?? [:]
            guard !wanted.isEmpty, wanted.allSatisfy({ labels[$0.key] == $0.value }), pod.isReady,
                pod.metadata.deletionTimestamp == nil, let ip = pod.status?.podIP, !ip.isEmpty
            else { continue }
            endpoints += pool.spec.targetPorts.map { EndpointAddress(host: ip, port: $0.number) }
        }
        return endpoints.sorted { $0.id < $1.id }
    }
}
