import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

/// `starling up` serving from MIG partitions: a node with one H100 in MIG mode publishes its partitions, two
/// `3g.40gb` replicas share that GPU through their claims, a third waits with the reason, and the devices come
/// back when replicas go.
@Suite(.serialized) struct PartitionEndToEndTests {
    static let nodes = """
        nodes:
          - name: mig-node
            accelerator: H100-80GB
            devices: 1
            mig: true
        """

    static let service = """
        apiVersion: starling.dev/v1alpha1
        kind: ModelService
        metadata: {name: halves}
        spec:
          model: halves-chat
          replicas: 3
          accelerators: {type: H100-80GB, partition: 3g.40gb}
          server: {engine: sim, profile: tiny}
        """

    @Test func twoHalfGPUReplicasShareOneGPUAndAThirdWaits() async throws {
        let dir = try scratchDirectory("starling-mig", files: ["nodes.yaml": Self.nodes, "halves.yaml": Self.service])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let up = try StarlingProcess(
            dataDirectory: dir, arguments: ["--nodes", "\(dir)/nodes.yaml", "-f", "\(dir)/halves.yaml", "--no-gateway"])
        defer { up.stop() }
        let kube = try await up.client()

        // The node's GPU and its 18 placements are published.
        try await waitUntil("the node's devices published") {
            try await kube.list(ResourceSlice.self).items.flatMap { $0.spec.devices ?? [] }.count == 19
        }
        try await waitUntil("two replicas running", timeout: .seconds(60)) {
            try await kube.list(Pod.self).items.filter { $0.isReady }.count == 2
        }
        let pods = try await kube.list(Pod.self).items
        let waiting = try #require(pods.first { $0.spec.nodeName == nil })
        try await waitUntil("the third explained", timeout: .seconds(30)) {
            let pod = try await kube.get(Pod.self, namespace: "default", name: waiting.metadata.nameOrEmpty)
            return pod.status?.conditions?.condition("PodScheduled")?.message?.contains(
                "1 of mig.starling.dev with its selectors wanted; 0 of 2 free") == true
        }
        // Each running replica holds one half of the GPU, through its own claim, and knows which.
        let claims = try await kube.list(ResourceClaim.self, namespace: "default").items.filter(\.isAllocated)
        let devices = claims.flatMap { $0.status?.allocation?.devices?.results ?? [] }.map(\.device)
        #expect(Set(devices) == ["gpu-0-mig-3g-40gb-0", "gpu-0-mig-3g-40gb-4"])
        for pod in pods where pod.spec.nodeName != nil {
            let log = try String(contentsOfFile: "\(dir)/logs/default_\(pod.metadata.nameOrEmpty).log", encoding: .utf8)
            #expect(log.contains("3g.40gb"), "\(pod.metadata.nameOrEmpty) was not told its partition")
        }
        let events = try await kube.list(Event.self, namespace: "default").items
        #expect(events.contains { $0.reason == "AllocatedDevices" && $0.message?.contains("3g-40gb") == true })

        // One replica fewer: its claim goes with its pod, and the waiting replica takes the freed half.
        _ = try await kube.patch(
            ModelService.self, namespace: "default", name: "halves",
            patch: .object(["spec": .object(["replicas": .int(2)])]))
        try await waitUntil("the highest replica gone and the others running", timeout: .seconds(60)) {
            let pods = try await kube.list(Pod.self).items
            return pods.count == 2 && pods.allSatisfy { $0.isReady }
        }
        try await waitUntil("one claim per replica", timeout: .seconds(30)) {
            try await kube.list(ResourceClaim.self, namespace: "default").items.count == 2
        }
        // To zero and back: every claim and device is returned and allocated again.
        _ = try await kube.patch(
            ModelService.self, namespace: "default", name: "halves",
            patch: .object(["spec": .object(["replicas": .int(0)])]))
        try await waitUntil("no claims left", timeout: .seconds(60)) {
            try await kube.list(ResourceClaim.self, namespace: "default").items.isEmpty
        }
        _ = try await kube.patch(
            ModelService.self, namespace: "default", name: "halves",
            patch: .object(["spec": .object(["replicas": .int(2)])]))
        try await waitUntil("two replicas running again", timeout: .seconds(60)) {
            try await kube.list(Pod.self).items.filter { $0.isReady }.count == 2
        }
        let again = try await kube.list(ResourceClaim.self, namespace: "default").items
        #expect(
            Set(again.flatMap { $0.status?.allocation?.devices?.results ?? [] }.map(\.device))
                == ["gpu-0-mig-3g-40gb-0", "gpu-0-mig-3g-40gb-4"])
    }
}
