import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Synchronization
import Testing

/// `starling up` rolling a changed template with a surge: two replicas on a node of three GPUs, `maxSurge: 1` and
/// `maxUnavailable: 0`, so the third GPU carries the surge replica while two replicas keep serving, and every
/// replica ends on the new template with the surge gone and its devices back.
@Suite(.serialized) struct RolloutEndToEndTests {
    static let nodes = """
        nodes:
          - name: gpu-node
            accelerator: H100-80GB
            devices: 3
        """

    static let service = """
        apiVersion: starling.dev/v1alpha1
        kind: ModelService
        metadata: {name: rolling}
        spec:
          model: rolling-chat
          replicas: 2
          accelerators: {type: H100-80GB, count: 1}
          rollout: {maxUnavailable: 0, maxSurge: 1}
          server: {engine: sim, profile: tiny, env: [{name: RELEASE, value: "1"}]}
        """

    @Test func aSurgeRolloutKeepsTwoReplicasServingAndEndsOnTheNewTemplate() async throws {
        let dir = try scratchDirectory(
            "starling-roll", files: ["nodes.yaml": Self.nodes, "rolling.yaml": Self.service])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let up = try StarlingProcess(
            dataDirectory: dir,
            arguments: ["--nodes", "\(dir)/nodes.yaml", "-f", "\(dir)/rolling.yaml", "--no-gateway"])
        defer { up.stop() }
        let kube = try await up.client()

        try await waitUntil("two replicas serving", timeout: .seconds(60)) {
            try await kube.list(Pod.self).items.filter { $0.isReady }.count == 2
        }
        let before = try await kube.get(ModelService.self, namespace: "default", name: "rolling")
        let old = try #require(before.status?.currentRevision)

        // A new template: the server's environment changes.
        _ = try await kube.patch(
            ModelService.self, namespace: "default", name: "rolling",
            patch: .object([
                "spec": .object([
                    "server": .object(["env": .array([.object(["name": .string("RELEASE"), "value": .string("2")])])])
                ])
            ]))
        // What the polls saw: the fewest Ready pods, the most pods, and whether the surge replica existed.
        let seen = Mutex((fewestReady: 2, mostPods: 0, surge: false))
        try await waitUntil("every replica on the new template", timeout: .seconds(120)) {
            let pods = try await kube.list(Pod.self).items.filter { $0.metadata.deletionTimestamp == nil }
            seen.withLock {
                $0.fewestReady = min($0.fewestReady, pods.filter(\.isReady).count)
                $0.mostPods = max($0.mostPods, pods.count)
                if pods.contains(where: { $0.metadata.nameOrEmpty == "rolling-2" }) { $0.surge = true }
            }
            let status = try await kube.get(ModelService.self, namespace: "default", name: "rolling").status
            return status?.currentRevision != old && status?.currentRevision == status?.updateRevision
                && status?.updatedReadyReplicas == 2 && pods.count == 2
                && pods.allSatisfy { $0.isReady && $0.metadata.labels?[WellKnown.revisionLabel] != old }
        }
        let observed = seen.withLock { $0 }
        #expect(observed.fewestReady >= 2, "two replicas served throughout (maxUnavailable 0)")
        #expect(observed.mostPods <= 3, "one surge replica at most")
        #expect(observed.surge, "the surge replica rolling-2 was made")
        let status = try await kube.get(ModelService.self, namespace: "default", name: "rolling").status
        #expect(status?.revisions?.count == 1)
        // The surge replica's claim went with it: two claims, two GPUs, on the new revision's template.
        try await waitUntil("two claims left", timeout: .seconds(30)) {
            try await kube.list(ResourceClaim.self, namespace: "default").items.count == 2
        }
        try await waitUntil("the old revision's claim template deleted", timeout: .seconds(30)) {
            try await kube.list(ResourceClaimTemplate.self, namespace: "default").items.map(\.metadata.nameOrEmpty)
                == ["rolling-\(status?.updateRevision ?? "")-accelerators"]
        }
        let events = try await kube.list(Event.self, namespace: "default").items
        #expect(events.contains { $0.reason == "RollingGroup" })
    }
}
