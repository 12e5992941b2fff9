import Foundation
import StarlingAPI
import StarlingClient
import StarlingManifests
import StarlingTestSupport
import Testing

/// `starling operator` as a process against a real kube-apiserver, with the token of the service account
/// `starling manifests` binds (so the shipped RBAC must suffice): the ModelService controller makes plain pods
/// kube-scheduler can place, a headless Service, status through the status subresource and core Events.
@Suite(.serialized) struct OperatorEndToEndTests {
    let cluster: KubeTestEnvironment.Endpoint
    let client: KubeClient
    let namespace: String
    let systemNamespace: String
    let directory: String
    /// A kubeconfig with the operator service account's token.
    let operatorKubeconfig: String

    init() async throws {
        cluster = try await KubeTestEnvironment.shared.start()
        var config = try KubeConfig.load(path: cluster.kubeconfig)
        namespace = "op-\(UInt32.random(in: 0...UInt32.max))"
        config.namespace = namespace
        client = try KubeClient(config: config)
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("starling-op-\(UUID().uuidString)")
            .path
        systemNamespace = "\(namespace)-system"
        // Everything `starling manifests` ships, but no operator pods: there is no kubelet to run them.
        let manifests = try ClusterManifests.objects(
            ClusterManifests.Options(namespace: systemNamespace, image: "starling:test", operatorReplicas: 0))
        try await KubeTestEnvironment.shared.applyManifests(try ClusterManifests.yaml(manifests))
        let established = try cluster.kubectl([
            "wait", "--for=condition=Established", "--timeout=60s", "crd/modelservices.starling.dev",
        ])
        #expect(established.status == 0, "\(established.output)")
        let created = try cluster.kubectl(["create", "namespace", namespace])
        #expect(created.status == 0, "\(created.output)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        operatorKubeconfig = directory + "/operator.kubeconfig"
        let token = try await client.serviceAccountToken(
            namespace: systemNamespace, name: ClusterManifests.operatorAccount)
        var document = KubeConfig.document(
            server: cluster.server, token: token, certificateAuthorityPEM: config.certificateAuthorityPEM)
        document = document.replacingOccurrences(of: "namespace: default", with: "namespace: \(systemNamespace)")
        try document.write(toFile: operatorKubeconfig, atomically: true, encoding: .utf8)
    }

    func startOperator(identity: String) throws -> StarlingProcess {
        try StarlingProcess(
            directory: directory,
            command: [
                "operator", "--kubeconfig", operatorKubeconfig, "--identity", identity, "--watch-namespace", namespace,
                "--image", "starling:test", "--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.4",
                "--health-host", "127.0.0.1", "--health-port", "0",
            ])
    }

    @Test func modelServiceBecomesPlainPodsWithAHeadlessServiceStatusAndEvents() async throws {
        let starling = try startOperator(identity: "op-a")
        defer { starling.stop() }
        let manifest = """
            apiVersion: starling.dev/v1alpha1
            kind: ModelService
            metadata: {name: llama, namespace: \(namespace)}
            spec:
              model: meta-llama/Llama-3.1-70B-Instruct
              replicas: 2
              group: {size: 2}
              accelerators: {type: NVIDIA-H100-80GB-HBM3, count: 8}
              server: {engine: sim, profile: llama-3.1-70b-h100-tp8, args: ["--startup-seconds", "0"]}
            """
        let applied = try cluster.kubectl(["apply", "-f", "-"], input: manifest)
        #expect(applied.status == 0, "\(applied.output)")
        try await waitUntil("4 pods", timeout: .seconds(60)) {
            try await client.list(Pod.self, namespace: namespace).items.count == 4
        }
        let pods = try await client.list(Pod.self, namespace: namespace).items
        let leader = try #require(pods.first { $0.metadata.name == "llama-0" })
        let container = try #require(leader.spec.containers.first)
        #expect(container.image == "starling:test")
        #expect(container.resources?.limits?["nvidia.com/gpu"] == "8")
        #expect(leader.spec.nodeSelector == ["nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"])
        #expect(leader.spec.schedulerName == "default-scheduler")
        #expect(leader.spec.hostname == "llama-0" && leader.spec.subdomain == "llama")
        let env = Dictionary(uniqueKeysWithValues: (container.env ?? []).map { ($0.name, $0.value ?? "") })
        #expect(env["LWS_LEADER_ADDRESS"] == "llama-0.llama.\(namespace)")
        #expect(env["LWS_GROUP_SIZE"] == "2" && env["LWS_WORKER_INDEX"] == "0")
        let worker = try #require(pods.first { $0.metadata.name == "llama-0-1" })
        let term = worker.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.first
        #expect(term?.topologyKey == "kubernetes.io/hostname")
        #expect(term?.labelSelector?.matchLabels == [WellKnown.gangLabel: "llama-0"])
        #expect(leader.metadata.annotations?[WellKnown.devicesAnnotation] == nil)

        let headless = try await client.get(KubeService.self, namespace: namespace, name: "llama")
        #expect(headless.spec?.clusterIP == "None")
        #expect(headless.spec?.publishNotReadyAddresses == true)

        try await waitUntil("status written", timeout: .seconds(30)) {
            try await client.get(ModelService.self, namespace: namespace, name: "llama").status?.replicas == 2
        }
        let service = try await client.get(ModelService.self, namespace: namespace, name: "llama")
        #expect(service.status?.selector == "\(WellKnown.modelServiceLabel)=llama")
        #expect(service.status?.conditions?.condition("Available")?.status == "False")

        let events = try await client.list(Event.self, namespace: namespace).items
        #expect(events.contains { $0.reason == "CreatedGroup" && $0.source?.component == "modelservice-controller" })

        // The scale subresource, as an HPA or `kubectl scale` uses it.
        let scaled = try cluster.kubectl(["scale", "-n", namespace, "modelservice/llama", "--replicas=3"])
        #expect(scaled.status == 0, "\(scaled.output)")
        try await waitUntil("6 pods", timeout: .seconds(60)) {
            try await client.list(Pod.self, namespace: namespace).items.count == 6
        }
        // The rollout fields pass the CRD's schema (a percentage where an int-or-string is), status keeps the
        // template groups below the partition would keep (a free-form object the API server must not prune), and a
        // changed template rolls: groups that are not Ready (no kubelet here) are replaced at once.
        let before = try await client.get(ModelService.self, namespace: namespace, name: "llama").status
        #expect(before?.currentTemplate?.spec.server.args == ["--startup-seconds", "0"])
        let rolled = try cluster.kubectl([
            "patch", "-n", namespace, "modelservice/llama", "--type=merge", "-p",
            #"{"spec":{"server":{"args":["--startup-seconds","1"]},"rollout":{"maxUnavailable":"50%"}}}"#,
        ])
        #expect(rolled.status == 0, "\(rolled.output)")
        try await waitUntil("every group at the new revision", timeout: .seconds(60)) {
            let status = try await client.get(ModelService.self, namespace: namespace, name: "llama").status
            guard let update = status?.updateRevision, update != before?.updateRevision else { return false }
            let pods = try await client.list(Pod.self, namespace: namespace).items
            return pods.count == 6 && pods.allSatisfy { $0.metadata.labels?[WellKnown.revisionLabel] == update }
                && status?.updatedReplicas == 3
        }
        let after = try await client.get(ModelService.self, namespace: namespace, name: "llama").status
        // No group has been Ready at the new template, so the current revision (and its template) stay.
        #expect(after?.currentRevision == before?.currentRevision)
        #expect(after?.currentTemplate?.spec.server.args == ["--startup-seconds", "0"])
        #expect(after?.revisions?.map(\.revision) == [after?.updateRevision ?? ""])
        // The lease is in the operator's own namespace, held by this replica.
        let lease = try await client.get(Lease.self, namespace: systemNamespace, name: "starling-operator")
        #expect(lease.spec?.holderIdentity == "op-a")
        await starling.stopped()
        let released = try await client.get(Lease.self, namespace: systemNamespace, name: "starling-operator")
        #expect(released.spec?.holderIdentity == nil, "released on SIGTERM")
    }

    /// Waits until `identity` holds the operator's Lease.
    func waitForLeader(_ identity: String, timeout: Duration) async throws {
        let client = self.client
        let namespace = systemNamespace
        try await waitUntil("\(identity) leads", timeout: timeout) {
            (try? await client.get(Lease.self, namespace: namespace, name: "starling-operator"))?.spec?
                .holderIdentity == identity
        }
    }

    /// Every pod name the namespace's watch saw added, and how often each was added or deleted.
    actor PodHistory {
        var added: [String: Int] = [:]
        var deleted: [String: Int] = [:]
        func record(_ update: WatchUpdate<Pod>) {
            switch update {
            case .added(let pod): added[pod.metadata.nameOrEmpty, default: 0] += 1
            case .deleted(let pod): deleted[pod.metadata.nameOrEmpty, default: 0] += 1
            default: break
            }
        }
    }

    func followPods(into history: PodHistory) async throws -> Task<Void, Never> {
        let start = try await client.list(Pod.self, namespace: namespace).metadata.resourceVersion
        let stream = client.watch(Pod.self, namespace: namespace, resourceVersion: start, timeoutSeconds: 600)
        return Task {
            do { for try await update in stream { await history.record(update) } } catch {}
        }
    }

    /// The leader is killed (SIGKILL, no release) while it creates a 16-group service; the standby takes over
    /// and finishes without creating any pod twice; a restarted operator with cold caches then
    /// converges without deleting or recreating any pod.
    @Test func standbyFinishesAKilledLeadersWorkWithoutDuplicates() async throws {
        let history = PodHistory()
        let following = try await followPods(into: history)
        defer { following.cancel() }
        let a = try startOperator(identity: "op-a")
        defer { a.stop() }
        try await waitForLeader("op-a", timeout: .seconds(60))
        let b = try startOperator(identity: "op-b")
        defer { b.stop() }
        let manifest = """
            apiVersion: starling.dev/v1alpha1
            kind: ModelService
            metadata: {name: big, namespace: \(namespace)}
            spec:
              model: m
              replicas: 16
              group: {size: 2}
              accelerators: {type: NVIDIA-H100-80GB-HBM3, count: 8}
              server: {engine: sim, profile: llama-3.1-70b-h100-tp8, args: ["--startup-seconds", "0"]}
            """
        let applied = try cluster.kubectl(["apply", "-f", "-"], input: manifest)
        #expect(applied.status == 0, "\(applied.output)")
        try await waitUntil("op-a has started creating", timeout: .seconds(60)) {
            await !history.added.isEmpty
        }
        // How soon is a benchmark's business (BENCHMARKS.md, leader failover); here, that it happens.
        a.kill9()
        try await waitForLeader("op-b", timeout: .seconds(30))
        try await waitUntil("32 pods", timeout: .seconds(60)) { await history.added.count == 32 }
        try await waitUntil("status written by op-b", timeout: .seconds(30)) {
            try await client.get(ModelService.self, namespace: namespace, name: "big").status?.replicas == 16
        }
        #expect(await history.added.values.allSatisfy { $0 == 1 }, "a pod was created twice")
        #expect(await history.deleted.isEmpty)

        // A cold start: op-b goes, a fresh operator lists everything and must leave every pod alone.
        await b.stopped()
        let c = try startOperator(identity: "op-c")
        defer { c.stop() }
        try await waitForLeader("op-c", timeout: .seconds(30))
        // Scale by one group, so op-c provably reconciled this service after its cold start.
        let scaled = try cluster.kubectl(["scale", "-n", namespace, "modelservice/big", "--replicas=17"])
        #expect(scaled.status == 0, "\(scaled.output)")
        try await waitUntil("34 pods", timeout: .seconds(60)) { await history.added.count == 34 }
        #expect(await history.added.values.allSatisfy { $0 == 1 }, "a pod was created twice")
        let deleted = await history.deleted
        #expect(deleted.isEmpty, "a pod was deleted: \(deleted)")
        await c.stopped()
    }
}
