import Foundation
import StarlingAPI
import Testing

@testable import StarlingGateway

/// How `starling up` turns ModelServices and their pods into gateway pools.
@Suite struct RoutedPoolTests {
    static func service(_ name: String, namespace: String = "default", extra: String = "") throws -> ModelService {
        let json = """
            {"metadata": {"name": "\(name)", "namespace": "\(namespace)"},
             "spec": {"model": "m-\(name)", "server": {"engine": "sim"}\(extra)}}
            """
        return try JSONDecoder().decode(ModelService.self, from: Data(json.utf8))
    }

    static func pod(
        _ owner: String, group: Int, worker: Int = 0, port: Int?, ready: Bool = true, deleting: Bool = false,
        namespace: String = "default"
    ) -> Pod {
        var metadata = ObjectMeta(
            name: "\(owner)-\(group)", namespace: namespace,
            labels: [
                WellKnown.modelServiceLabel: owner, WellKnown.groupIndexLabel: "\(group)",
                WellKnown.workerIndexLabel: "\(worker)",
            ])
        if deleting { metadata.deletionTimestamp = "2026-11-23T00:00:00Z" }
        var status = PodStatus(
            phase: .running, conditions: [Condition(type: "Ready", status: ready ? "True" : "False")])
        status.podIP = "127.0.0.1"
        let container = Container(name: "server", ports: port.map { [ContainerPort(name: "http", containerPort: $0)] })
        return Pod(metadata: metadata, spec: PodSpec(containers: [container]), status: status)
    }

    @Test func readyLeadersWithAPortAreTheEndpoints() throws {
        let pods = [
            Self.pod("llama", group: 0, port: 9001),
            Self.pod("llama", group: 0, worker: 1, port: 9002),  // a worker: not an endpoint
            Self.pod("llama", group: 1, port: 9003, ready: false),
            Self.pod("llama", group: 2, port: 9004, deleting: true),
            Self.pod("llama", group: 3, port: nil),
            Self.pod("llama", group: 4, port: 9005),
            Self.pod("other", group: 0, port: 9100, namespace: "team"),
        ]
        let pools = RoutedPool.pools(
            services: [
                try Self.service("llama", extra: #","adapters":[{"name":"sql"}],"routing":{"criticality":"Critical"}"#),
                try Self.service("other", namespace: "team"), try Self.service("idle"),
            ], pods: pods)
        #expect(pools.map(\.name) == ["idle", "llama", "team/other"])
        #expect(pools[0].endpoints.isEmpty && pools[0].models == ["m-idle"])
        #expect(pools[1].endpoints.map(\.id) == ["127.0.0.1:9001", "127.0.0.1:9005"])
        #expect(pools[1].models == ["m-llama", "sql"] && pools[1].criticality == .critical)
        #expect(pools[2].endpoints.map(\.id) == ["127.0.0.1:9100"])
        let objectives = RoutedPool.objectives(pools)
        #expect(objectives.models["m-llama"]?.criticality == .critical)
        #expect(objectives.models["m-other"] == nil)
    }

    @Test func aGatewayFollowsItsPools() async throws {
        let gateway = Gateway(configuration: GatewayConfiguration(pools: []))
        let first = [RoutedPool(name: "a", models: ["m"], endpoints: [EndpointAddress(host: "127.0.0.1", port: 1)])]
        gateway.syncPools(first, objectives: ObjectiveTable())
        #expect(gateway.pools.map(\.name) == ["a"])
        // Until its endpoints list their models a pool may serve any name; then only what they list.
        #expect(gateway.pool(serving: "x")?.name == "a")
        gateway.pools[0].update { $0.recordModels("127.0.0.1:1", [ServedModel(id: "m")]) }
        #expect(gateway.pool(serving: "m")?.name == "a" && gateway.pool(serving: "x") == nil)
        gateway.syncPools([], objectives: ObjectiveTable())
        #expect(gateway.pools.isEmpty)
        try await gateway.shutdown()
    }
}
