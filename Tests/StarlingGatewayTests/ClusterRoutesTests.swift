import StarlingAPI
import StarlingTestSupport
import Testing

@testable import StarlingGateway

/// How a gateway turns a cluster's InferencePools, InferenceObjectives and InferenceModelRewrites (beside its
/// ModelServices) into pools and objectives.
@Suite struct ClusterRoutesTests {
    static func pod(
        _ name: String, labels: [String: String], ip: String? = "10.0.0.1", ready: Bool = true,
        deleting: Bool = false, namespace: String = "default"
    ) -> Pod {
        var metadata = ObjectMeta(name: name, namespace: namespace, labels: labels)
        if deleting { metadata.deletionTimestamp = "2026-12-05T00:00:00Z" }
        var status = PodStatus(
            phase: .running, conditions: [Condition(type: "Ready", status: ready ? "True" : "False")])
        status.podIP = ip
        return Pod(metadata: metadata, spec: PodSpec(containers: [Container(name: "vllm")]), status: status)
    }

    static func pool(
        _ name: String, namespace: String = "default", labels: [String: String] = ["app": "vllm"],
        ports: [Int] = [8000]
    ) -> InferencePool {
        InferencePool(
            metadata: ObjectMeta(name: name, namespace: namespace),
            spec: InferencePoolSpec(matchLabels: labels, targetPorts: ports))
    }

    static func objective(
        _ name: String, pool: String, priority: Int?, namespace: String = "default"
    )
        -> InferenceObjective
    {
        InferenceObjective(
            metadata: ObjectMeta(name: name, namespace: namespace),
            spec: InferenceObjectiveSpec(priority: priority, pool: pool))
    }

    static func rewrite(_ name: String, pool: String, _ rules: [ModelRewriteRule]) -> InferenceModelRewrite {
        InferenceModelRewrite(
            metadata: ObjectMeta(name: name, namespace: "default"),
            spec: InferenceModelRewriteSpec(pool: pool, rules: rules))
    }

    struct EndpointCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var pod: Pod
        var endpoints: [String]
    }

    static let endpointCases: [EndpointCase] = [
        .init(
            testDescription: "ready and matching: one endpoint per target port", pod: pod("a", labels: ["app": "vllm"]),
            endpoints: ["10.0.0.1:8000", "10.0.0.1:8001"]),
        .init(
            testDescription: "more labels than the selector asks for still match",
            pod: pod("a", labels: ["app": "vllm", "tier": "gpu"]), endpoints: ["10.0.0.1:8000", "10.0.0.1:8001"]),
        .init(testDescription: "another label value", pod: pod("a", labels: ["app": "tgi"]), endpoints: []),
        .init(testDescription: "not Ready", pod: pod("a", labels: ["app": "vllm"], ready: false), endpoints: []),
        .init(testDescription: "being deleted", pod: pod("a", labels: ["app": "vllm"], deleting: true), endpoints: []),
        .init(testDescription: "no pod IP yet", pod: pod("a", labels: ["app": "vllm"], ip: nil), endpoints: []),
        .init(
            testDescription: "another namespace", pod: pod("a", labels: ["app": "vllm"], namespace: "team"),
            endpoints: []),
    ]

    @Test(arguments: endpointCases) func anInferencePoolsEndpoints(_ c: EndpointCase) {
        let routes = ClusterRoutes.plan(
            services: [], inference: .init(pools: [Self.pool("p", ports: [8000, 8001])]), pods: [c.pod])
        #expect(routes.pools.map(\.name) == ["p"])
        #expect(routes.pools[0].endpoints.map(\.id) == c.endpoints)
        #expect(routes.pools[0].models.isEmpty, "models come from the endpoints' /v1/models")
        #expect(routes.problems.isEmpty)
    }

    @Test func poolsOfBothKindsAreNamedAlikeAndAnInferencePoolWinsAName() throws {
        let services = [
            try RoutedPoolTests.service("llama"), try RoutedPoolTests.service("qwen", namespace: "team"),
        ]
        let pods = [
            RoutedPoolTests.pod("llama", group: 0, port: 9001),
            Self.pod("q-0", labels: ["model": "qwen"], ip: "10.1.0.1", namespace: "team"),
        ]
        let routes = ClusterRoutes.plan(
            services: services,
            inference: .init(pools: [Self.pool("qwen", namespace: "team", labels: ["model": "qwen"])]), pods: pods)
        #expect(routes.pools.map(\.name) == ["llama", "team/qwen"])
        #expect(routes.pools[0].endpoints.map(\.id) == ["127.0.0.1:9001"])
        #expect(routes.pools[1].endpoints.map(\.id) == ["10.1.0.1:8000"])
        #expect(routes.problems.count == 1 && routes.problems[0].contains("share a pool name"))
    }

    @Test(arguments: [
        (Int?.some(10), StarlingGateway.Criticality.critical), (0, .standard), (nil, .standard), (-5, .sheddable),
    ])
    func anObjectivesPriorityIsItsCriticality(_ priority: Int?, _ criticality: StarlingGateway.Criticality) {
        let routes = ClusterRoutes.plan(
            services: [],
            inference: .init(pools: [Self.pool("p")], objectives: [Self.objective("o", pool: "p", priority: priority)]),
            pods: [])
        #expect(routes.objectives.objectives == ["o": criticality])
        #expect(routes.problems.isEmpty)
    }

    @Test func objectivesForMissingPoolsOrTakenNamesAreLeftOutAndSaid() {
        let routes = ClusterRoutes.plan(
            services: [],
            inference: .init(
                pools: [Self.pool("p"), Self.pool("p", namespace: "team")],
                objectives: [
                    Self.objective("batch", pool: "gone", priority: -1),
                    Self.objective("premium", pool: "p", priority: 5),
                    Self.objective("premium", pool: "p", priority: -5, namespace: "team"),
                    Self.objective("same", pool: "p", priority: 1),
                    Self.objective("same", pool: "p", priority: 2, namespace: "team"),
                ]),
            pods: [])
        #expect(routes.objectives.objectives == ["premium": .critical, "same": .critical])
        #expect(routes.problems.count == 2)
        #expect(routes.problems.contains { $0.contains("default/batch") && $0.contains("not found") })
        #expect(routes.problems.contains { $0.contains("team/premium") && $0.contains("already defined") })
    }

    @Test func rewritesMapModelsAndTheFirstToClaimANameWins() {
        let canary = ModelRewriteRule(
            models: ["chat"],
            targets: [
                ModelRewriteTarget(modelRewrite: "chat-v1", weight: 90),
                ModelRewriteTarget(modelRewrite: "chat-v2", weight: 10),
            ])
        let fallback = ModelRewriteRule(models: [], targets: [ModelRewriteTarget(modelRewrite: "base")])
        let routes = ClusterRoutes.plan(
            services: [],
            inference: .init(
                pools: [Self.pool("p")],
                rewrites: [
                    Self.rewrite(
                        "b-late", pool: "p", [ModelRewriteRule(models: ["chat"], targets: [.init(modelRewrite: "x")])]),
                    Self.rewrite("a-first", pool: "p", [canary, fallback]),
                    Self.rewrite("c-orphan", pool: "missing", [fallback]),
                ]),
            pods: [])
        #expect(
            routes.objectives.models["chat"]?.targets
                == [.init(model: "chat-v1", weight: 90), .init(model: "chat-v2", weight: 10)])
        #expect(routes.objectives.fallback?.targets == [.init(model: "base", weight: 1)])
        #expect(routes.problems.count == 2)
        #expect(routes.problems.contains { $0.contains("default/b-late") && $0.contains("already rewritten") })
        #expect(routes.problems.contains { $0.contains("default/c-orphan") && $0.contains("not found") })
    }

    @Test func configuredPoolsAndObjectivesStayWhenDiscoveredOnesChange() async throws {
        var configuration = GatewayConfiguration(
            pools: [
                .init(settings: PoolSettings(name: "static"), endpoints: [EndpointAddress(host: "127.0.0.1", port: 7)])
            ])
        configuration.objectives.objectives["gold"] = .critical
        let gateway = Gateway(configuration: configuration)
        var discovered = ObjectiveTable()
        discovered.objectives = ["gold": .sheddable, "bronze": .sheddable]
        gateway.syncPools(
            [
                RoutedPool(name: "static", models: [], endpoints: []),
                RoutedPool(name: "found", models: [], endpoints: []),
            ],
            objectives: discovered)
        #expect(gateway.pools.map(\.name) == ["static", "found"])
        #expect(gateway.pools[0].read { $0.endpoints.keys.sorted() } == ["127.0.0.1:7"])
        #expect(gateway.objectives.objectives == ["gold": .critical, "bronze": .sheddable])
        gateway.syncPools([], objectives: ObjectiveTable())
        #expect(gateway.pools.map(\.name) == ["static"])
        try await gateway.shutdown()
    }
}

/// Requests for a pool with no ready replica are held, and a client that goes away while held leaves the queue.
@Suite struct HeldRequestTests {
    @Test func aClientThatDisconnectsWhileHeldLeavesTheQueue() async throws {
        var settings = PoolSettings(name: "p")
        settings.models = ["m"]
        settings.noEndpointWait = .seconds(600)
        var configuration = GatewayConfiguration(pools: [.init(settings: settings)])
        configuration.port = 0
        let gateway = Gateway(configuration: configuration)
        try await gateway.withRunning { port in
            let body = #"{"model":"m","prompt":"hi","max_tokens":2}"#
            let connection = try RawConnection(port: port)
            #expect(
                connection.send(
                    "POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                        + "content-length: \(body.utf8.count)\r\n\r\n\(body)"))
            try await eventually("the request held") { gateway.load(pool: "p")?.held == 1 }
            connection.close()
            try await eventually("the queue empty once the client is gone") { gateway.load(pool: "p")?.held == 0 }
        }
    }
}
