import Foundation
import StarlingAPI
import StarlingClient
import Testing

#if canImport(Glibc)
import Glibc
import StarlingTestSupport
#endif

@Suite(.serialized) struct EmbeddedClusterEndToEndTests {
    static let nodes = """
        nodes:
          - namePrefix: gpu-
            count: 2
            racks: 2
            accelerator: H100-80GB
            devices: 8
        """

    static let service = """
        apiVersion: starling.dev/v1alpha1
        kind: ModelService
        metadata:
          name: echo
        spec:
          model: echo
          replicas: 2
          group:
            size: 2
          accelerators:
            type: H100-80GB
            count: 2
          server:
            engine: command
            command: ["python3", "-m", "http.server", "$(PORT)", "--bind", "$(POD_IP)"]
            readinessPath: /
        """

    func ready(_ client: KubeClient, replicas: Int) async throws -> Bool {
        let svc = try await client.get(ModelService.self, name: "echo")
        let pods = try await client.list(Pod.self, labelSelector: "starling.dev/model-service=echo").items
        return svc.status?.readyReplicas == replicas && svc.status?.conditions?.condition("Available")?.isTrue == true
            && pods.count == replicas * 2 && pods.allSatisfy { $0.isReady && $0.metadata.deletionTimestamp == nil }
    }

    /// Process-group ids the node agent recorded for running pods.
    func childPIDs(_ dir: String) -> [Int32] {
        let run = "\(dir)/run"
        return ((try? FileManager.default.contentsOfDirectory(atPath: run)) ?? []).compactMap {
            (try? String(contentsOfFile: "\(run)/\($0)", encoding: .utf8)).flatMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
    }

    @Test func twoHostServiceScalesRecoversAndSurvivesKill9() async throws {
        let dir = try scratchDirectory("starling-e2e")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.nodes.write(toFile: "\(dir)/nodes.yaml", atomically: true, encoding: .utf8)
        try Self.service.write(toFile: "\(dir)/echo.yaml", atomically: true, encoding: .utf8)

        var up = try StarlingProcess(
            dataDirectory: dir, arguments: ["--nodes", "\(dir)/nodes.yaml", "-f", "\(dir)/echo.yaml"])
        defer { up.stop() }
        let client = try await up.client()

        // Two groups of leader + worker reach Available, spread over devices with distinct indexes.
        try await waitUntil("2 ready groups") { try await ready(client, replicas: 2) }
        let pods = try await client.list(Pod.self).items
        // Each host's claim holds devices no other holds.
        let claims = try await client.list(ResourceClaim.self, namespace: "default").items
        let devices = claims.flatMap { $0.status?.allocation?.devices?.results ?? [] }.map { "\($0.pool)/\($0.device)" }
        #expect(devices.count == 8 && Set(devices).count == 8, "\(devices)")
        let worker = pods.first { $0.metadata.name == "echo-0-1" }!
        #expect(worker.spec.containers[0].env?.contains(EnvVar(name: "STARLING_WORKER_INDEX", value: "1")) == true)

        // Scale to 3 and back to 1.
        _ = try await client.updateScale(ModelService.self, name: "echo", replicas: 3)
        try await waitUntil("3 ready groups") { try await ready(client, replicas: 3) }
        _ = try await client.updateScale(ModelService.self, name: "echo", replicas: 1)
        try await waitUntil("1 ready group") { try await ready(client, replicas: 1) }
        #expect(try await client.list(Pod.self).items.map(\.metadata.nameOrEmpty).sorted() == ["echo-0", "echo-0-1"])

        // Killing the worker's process recreates the whole group.
        let before = try await client.get(Pod.self, name: "echo-0")
        let workerUID = try await client.get(Pod.self, name: "echo-0-1").metadata.uid!
        let pgidText = try String(contentsOfFile: "\(dir)/run/\(workerUID).pgid", encoding: .utf8)
        kill(Int32(pgidText.trimmingCharacters(in: .whitespacesAndNewlines))!, SIGKILL)
        try await waitUntil("group 0 recreated") {
            let leader = try await client.get(Pod.self, name: "echo-0")
            let isReady = try await ready(client, replicas: 1)
            return leader.metadata.uid != before.metadata.uid && isReady
        }
        let events = try await client.list(Event.self).items.map { $0.reason ?? "" }
        #expect(events.contains("RecreatingGroup"))

        // kill -9 of starling up leaves no child running; a restart resumes from SQLite.
        let children = childPIDs(dir)
        #expect(children.count == 2)
        let serviceUID = try await client.get(ModelService.self, name: "echo").metadata.uid
        up.kill9()
        try await waitUntil("children gone", timeout: .seconds(10)) { children.allSatisfy { !processAlive($0) } }
        up = try StarlingProcess(dataDirectory: dir, arguments: ["--nodes", "\(dir)/nodes.yaml"])
        let again = try await up.client()
        #expect(try await again.get(ModelService.self, name: "echo").metadata.uid == serviceUID)
        try await waitUntil("ready after restart") {
            let pids = childPIDs(dir)
            let isReady = try await ready(again, replicas: 1)
            return isReady && pids.count == 2 && pids.allSatisfy(processAlive)
        }
        await up.stopped()
        #expect(childPIDs(dir).allSatisfy { !processAlive($0) })
    }
}
