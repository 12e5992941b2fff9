import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingAPI
import StarlingClient
import StarlingManifests
import StarlingTestSupport
import Testing

/// The whole Kubernetes path on a real control plane: `starling manifests` applied with kubectl (CRDs and RBAC);
/// `starling agent` registering two GPU nodes; the operator (with its service account's token) making the group
/// pods; kube-scheduler binding them; the agent running the simulator; the gateway (with its own service
/// account's token) discovering the pool and routing a streaming chat completion; deletion cleaning up.
@Suite(.serialized) struct KubernetesEndToEndTests {
    @Test func applyServeStreamAndDelete() async throws {
        let cluster = try await KubeTestEnvironment.shared.start()
        let admin = try KubeClient(config: try KubeConfig.load(path: cluster.kubeconfig))
        let id = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let namespace = "e2e-\(id)"
        let system = "e2e-\(id)-system"
        // An accelerator type only this test's nodes have, so pods of other suites sharing the control plane are
        // never bound to them.
        let accelerator = "SIM-H100-\(id)"
        let directory = try scratchDirectory("starling-e2e")
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let manifests = try ClusterManifests.objects(
            ClusterManifests.Options(namespace: system, image: "starling:test", gatewayReplicas: 0, operatorReplicas: 0)
        )
        try await KubeTestEnvironment.shared.applyManifests(try ClusterManifests.yaml(manifests))
        #expect(try cluster.kubectl(["create", "namespace", namespace]).status == 0)
        let ca = try KubeConfig.load(path: cluster.kubeconfig).certificateAuthorityPEM
        func kubeconfig(for account: String) async throws -> String {
            let token = try await admin.serviceAccountToken(namespace: system, name: account)
            let path = "\(directory)/\(account).kubeconfig"
            try KubeConfig.document(server: cluster.server, token: token, certificateAuthorityPEM: ca)
                .replacingOccurrences(of: "namespace: default", with: "namespace: \(system)")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let operatorConfig = try await kubeconfig(for: ClusterManifests.operatorAccount)
        let gatewayConfig = try await kubeconfig(for: ClusterManifests.gatewayAccount)
        try """
        nodes:
        - namePrefix: e2e-\(id)-node-
          count: 2
          accelerator: \(accelerator)
          devices: 8
        """.write(toFile: "\(directory)/nodes.yaml", atomically: true, encoding: .utf8)

        let agent = try StarlingProcess(
            directory: directory,
            command: [
                "agent", "--kubeconfig", cluster.kubeconfig, "--nodes-file", "\(directory)/nodes.yaml",
                "--state-dir", "\(directory)/agent",
            ])
        defer { agent.stop() }
        let gateway = try StarlingProcess(
            directory: directory,
            command: [
                "gateway", "--from-cluster", "--kubeconfig", gatewayConfig, "--watch-namespace", namespace,
                "--port", "0", "--scrape-interval", "50ms",
            ])
        defer { gateway.stop() }
        let base = try await Self.gatewayURL(gateway)
        // The gateway runs outside the cluster here: the operator's autoscaler reads its held requests by URL.
        let operatorProcess = try StarlingProcess(
            directory: directory,
            command: [
                "operator", "--kubeconfig", operatorConfig, "--watch-namespace", namespace, "--image", "starling:test",
                "--health-host", "127.0.0.1", "--health-port", "0", "--gateway-url", base,
            ])
        defer { operatorProcess.stop() }

        try await waitUntil("both nodes registered and Ready", timeout: .seconds(60)) {
            let nodes = try await admin.list(Node.self, labelSelector: "nvidia.com/gpu.product=\(accelerator)").items
            return nodes.count == 2 && nodes.allSatisfy { $0.isReady && $0.acceleratorCount == 8 }
        }
        let lease = try await admin.get(Lease.self, namespace: "kube-node-lease", name: "e2e-\(id)-node-0")
        #expect(lease.spec?.holderIdentity == "e2e-\(id)-node-0")

        let model = "meta-llama/Llama-3.1-8B-Instruct"
        let service = """
            apiVersion: starling.dev/v1alpha1
            kind: ModelService
            metadata: {name: llama, namespace: \(namespace)}
            spec:
              model: \(model)
              replicas: 2
              group: {size: 2}
              accelerators: {type: \(accelerator), count: 4}
              server: {engine: sim, profile: tiny}
            """
        let created = try cluster.kubectl(["apply", "-f", "-"], input: service)
        #expect(created.status == 0, "\(created.output)")
        try await waitUntil("both groups Ready", timeout: .seconds(120)) {
            try await admin.get(ModelService.self, namespace: namespace, name: "llama").status?.readyReplicas == 2
        }
        let pods = try await admin.list(Pod.self, namespace: namespace).items
        #expect(pods.count == 4)
        // kube-scheduler placed each group's two hosts on different nodes (the group's anti-affinity).
        for group in ["0", "1"] {
            let nodes = Set(
                pods.filter { $0.metadata.labels?[WellKnown.groupIndexLabel] == group }.compactMap(\.spec.nodeName))
            #expect(nodes.count == 2, "group \(group) on \(nodes)")
        }
        let leaders = Set(
            pods.filter { $0.metadata.labels?[WellKnown.workerIndexLabel] == "0" }.compactMap(\.status?.podIP))
        #expect(leaders.count == 2)

        try await waitUntil("the gateway routes to both leaders", timeout: .seconds(60)) {
            let metrics = try await Self.fetch(base + "/metrics")
            return metrics.contains(#"starling_gateway_endpoints{pool="\#(namespace)/llama",state="healthy"} 2"#)
        }
        var request = HTTPClientRequest(url: base + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(
            ByteBuffer(
                string:
                    #"{"model":"\#(model)","messages":[{"role":"user","content":"Hello!"}],"max_tokens":8,"stream":true,"ignore_eos":true}"#
            ))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status.code == 200)
        let endpoint = response.headers.first(name: "x-starling-endpoint") ?? ""
        #expect(leaders.contains { endpoint.hasPrefix("\($0):") }, "routed to \(endpoint), leaders \(leaders)")
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(body.components(separatedBy: "\"delta\"").count - 1 >= 8, "\(body)")
        #expect(body.contains("data: [DONE]"))

        // Deleting the service: the garbage collector deletes the pods, the agent stops them and confirms.
        #expect(try cluster.kubectl(["delete", "-n", namespace, "modelservice/llama", "--wait=false"]).status == 0)
        try await waitUntil("the pods gone", timeout: .seconds(90)) {
            try await admin.list(Pod.self, namespace: namespace).items.isEmpty
        }

        // Scale from zero on the cluster: the gateway holds a request for a service at zero replicas, the operator's
        // autoscaler reads the held count from the gateway's /metrics and scales it up, the request is served, and
        // the idle service goes back to zero.
        let scaled = """
            apiVersion: starling.dev/v1alpha1
            kind: ModelService
            metadata: {name: scaled, namespace: \(namespace)}
            spec:
              model: scaled-chat
              replicas: 0
              accelerators: {type: \(accelerator), count: 1}
              server: {engine: sim, profile: tiny}
              autoscaling:
                minReplicas: 0
                maxReplicas: 2
                metric: concurrency
                target: 4
                scaleToZeroAfterSeconds: 2
                scaleDown: {stabilizationWindowSeconds: 0}
            """
        #expect(try cluster.kubectl(["apply", "-f", "-"], input: scaled).status == 0)
        try await waitUntil("the gateway knows the pool", timeout: .seconds(30)) {
            try await Self.fetch(base + "/v1/models").contains("scaled-chat")
        }
        var held = HTTPClientRequest(url: base + "/v1/completions")
        held.method = .POST
        held.body = .bytes(ByteBuffer(string: #"{"model":"scaled-chat","prompt":"Hello","max_tokens":3}"#))
        let answer = try await HTTPClient.shared.execute(held, timeout: .seconds(90))
        let answerBody = String(buffer: try await answer.body.collect(upTo: 1 << 20))
        #expect(answer.status.code == 200, "\(answerBody)")
        try await waitUntil("back to zero", timeout: .seconds(90)) {
            let replicas = try await admin.get(ModelService.self, namespace: namespace, name: "scaled").spec.replicas
            let pods = try await admin.list(Pod.self, namespace: namespace).items
            return replicas == 0 && pods.isEmpty
        }
        let scaleEvents = try await admin.list(Event.self, namespace: namespace).items.filter {
            $0.source?.component == "autoscaler"
        }
        #expect(Set(scaleEvents.compactMap(\.reason)) == ["ScaledUp", "ScaledDown"], "\(scaleEvents.map(\.reason))")
        // One replica for the held request (its count is not read after the answer: the idle service may already
        // be back at zero 2 s later on a loaded machine).
        let up = scaleEvents.filter { $0.reason == "ScaledUp" }
        #expect(up.reduce(0) { $0 + ($1.count ?? 1) } == 1 && up.first?.message?.contains("0 → 1 replicas") == true)
        await gateway.stopped()
        await operatorProcess.stopped()
        await agent.stopped()
    }

    static func gatewayURL(_ gateway: StarlingProcess) async throws -> String {
        @Sendable func find() -> String? {
            let output = gateway.output
            guard let range = output.range(of: #"http\.url=http://[0-9.]+:[0-9]+"#, options: .regularExpression)
            else { return nil }
            return String(output[range].dropFirst("http.url=".count))
        }
        try await waitUntil("the gateway to listen", timeout: .seconds(30)) { find() != nil }
        return try #require(find())
    }

    static func fetch(_ url: String) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 1 << 22))
    }
}
