import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a pod starts cannot outlive it or Starling, and holds none of Starling's descriptors.
@Suite(.serialized) struct ProcessIsolationEndToEndTests {
    static let nodes = """
        nodes:
          - namePrefix: gpu-
            count: 1
            accelerator: H100-80GB
            devices: 2
        """

    /// A server that leaves a `setsid` grandchild behind, as launch scripts that daemonise a helper do.
    static func service(script: String) -> String {
        """
        apiVersion: starling.dev/v1alpha1
        kind: ModelService
        metadata:
          name: escape
        spec:
          model: escape
          replicas: 1
          accelerators:
            type: H100-80GB
            count: 1
          server:
            engine: command
            command: ["sh", "\(script)"]
            readinessPath: /
        """
    }

    static func script(dir: String) -> String {
        """
        setsid sh -c 'echo $$ > "\(dir)/escaped-$POD_NAME"; exec sleep 300' &
        exec python3 -m http.server "$PORT" --bind "$POD_IP"
        """
    }

    func escapedPID(_ dir: String) throws -> Int32? {
        let path = "\(dir)/escaped-escape-0"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// What the process's descriptors point at (`socket:[…]`, `/dev/null`, …).
    func descriptors(_ pid: Int32) -> [String] {
        let dir = "/proc/\(pid)/fd"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\($0)")
        }
    }

    @Test func aSetsidGrandchildEndsWithItsPodAndWithStarlingAndHoldsNoSocket() async throws {
        let dir = try scratchDirectory("starling-iso")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.nodes.write(toFile: "\(dir)/nodes.yaml", atomically: true, encoding: .utf8)
        try Self.script(dir: dir).write(toFile: "\(dir)/pod.sh", atomically: true, encoding: .utf8)
        try Self.service(script: "\(dir)/pod.sh").write(toFile: "\(dir)/svc.yaml", atomically: true, encoding: .utf8)

        var up = try StarlingProcess(
            dataDirectory: dir, arguments: ["--nodes", "\(dir)/nodes.yaml", "-f", "\(dir)/svc.yaml"])
        defer { up.stop() }
        let client = try await up.client()
        try await waitUntil("the pod to be ready") {
            try await client.get(Pod.self, name: "escape-0").isReady
        }
        try await waitUntil("the grandchild to start") { try escapedPID(dir) != nil }
        let first = try #require(try escapedPID(dir))
        #expect(processIsRunning(first))
        // Only the standard descriptors (the log and /dev/null): no socket of the API server or the gateway.
        let held = descriptors(first)
        #expect(!held.contains { $0.hasPrefix("socket:") }, "the grandchild holds \(held)")

        // kill -9 of Starling: the watchdog ends the grandchild, and a restart on the same API port succeeds.
        let apiPort = try #require(
            URLComponents(string: try KubeConfig.load(path: "\(dir)/kubeconfig").server)?.port)
        up.kill9()
        try await waitUntil("the grandchild to end after kill -9", timeout: .seconds(10)) { !processIsRunning(first) }
        try FileManager.default.removeItem(atPath: "\(dir)/escaped-escape-0")
        up = try StarlingProcess(
            dataDirectory: dir, arguments: ["--nodes", "\(dir)/nodes.yaml", "--api-port", "\(apiPort)"])
        let again = try await up.client()
        try await waitUntil("the pod to be ready again") {
            try await again.get(Pod.self, name: "escape-0").isReady
        }
        try await waitUntil("the new grandchild to start") { try escapedPID(dir) != nil }
        let second = try #require(try escapedPID(dir))

        // Deleting the ModelService ends the new grandchild with its pod.
        try await again.delete(ModelService.self, name: "escape")
        try await waitUntil("the pod to be gone") {
            try await again.list(Pod.self).items.isEmpty
        }
        try await waitUntil("the grandchild to end with its pod", timeout: .seconds(10)) { !processIsRunning(second) }
        await up.stopped()
    }
}
