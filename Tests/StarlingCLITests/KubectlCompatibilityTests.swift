import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

/// kubectl v1.20 from the Kubernetes test control plane (`scripts/kube-testenv build`, which `scripts/test` runs),
/// else one installed on this machine.
let kubectlPath: String? = {
    let env = ProcessInfo.processInfo.environment
    let cache =
        env["STARLING_KUBE_CACHE"]
        ?? "\(env["XDG_CACHE_HOME"] ?? "\(env["HOME"] ?? NSHomeDirectory())/.cache")/starling/kubernetes-1.20"
    return ["\(cache)/bin/kubectl", "/usr/bin/kubectl", "/usr/local/bin/kubectl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}()

/// Runs kubectl against a kubeconfig; returns exit status and combined output. Waits on its own thread.
func kubectl(_ kubeconfig: String, _ args: [String], stdin: String? = nil) async throws -> (Int32, String) {
    try await onOwnThread { try runKubectl(kubectlPath!, ["--kubeconfig", kubeconfig] + args, input: stdin) }
}

@Suite(.serialized)
struct KubectlCompatibilityTests {
    @Test func applyGetWatchDeleteThroughKubectl() async throws {
        let dir = try scratchDirectory("starling-kubectl")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let up = try StarlingProcess(dataDirectory: dir, arguments: [])
        defer { up.stop() }
        let client = try await up.client()
        let kc = "\(dir)/kubeconfig"
        let manifest = """
            apiVersion: starling.dev/v1alpha1
            kind: ModelService
            metadata: {name: kc}
            spec:
              model: kc
              replicas: 0
              server: {engine: command, command: ["sleep", "60"]}
            """
        var (status, output) = try await kubectl(kc, ["apply", "-f", "-"], stdin: manifest)
        #expect(status == 0 && output.contains("modelservice.starling.dev/kc created"), "\(output)")
        (status, output) = try await kubectl(kc, ["apply", "-f", "-"], stdin: manifest)
        #expect(output.contains("unchanged"), "\(output)")
        (status, output) = try await kubectl(
            kc, ["apply", "-f", "-"], stdin: manifest.replacingOccurrences(of: "replicas: 0", with: "replicaz: 0"))
        #expect(status != 0 && output.contains("spec.replicaz: unknown field"), "\(output)")
        (status, output) = try await kubectl(kc, ["get", "modelservices", "-o", "name"])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "modelservice.starling.dev/kc", "\(output)")
        (status, output) = try await kubectl(kc, ["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"])
        #expect(output == "node-0", "\(output)")
        // Tables: the server's columns, the ones `starling get` prints; `-o wide` adds the priority-1 ones.
        (status, output) = try await kubectl(kc, ["get", "modelservices"])
        #expect(
            output.split(separator: "\n").first?.split(separator: " ").map(String.init) == [
                "NAME", "MODEL", "REPLICAS", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
            ], "\(output)")
        #expect(output.contains("kc ") && output.contains("0/0"), "\(output)")
        (status, output) = try await kubectl(kc, ["get", "nodes", "-o", "wide"])
        #expect(output.contains("ACCELERATOR") && output.contains("RACK") && output.contains("H100-80GB"), "\(output)")

        // `get -w` streams a change made while it watches.
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: kubectlPath!)
        watcher.arguments = [
            "--kubeconfig", kc, "get", "modelservices", "-w", "-o", "jsonpath={.spec.replicas}{\"\\n\"}",
        ]
        let pipe = Pipe()
        watcher.standardOutput = pipe
        try watcher.run()
        defer { if watcher.isRunning { watcher.terminate() } }
        let lines = LineCollector()
        pipe.fileHandleForReading.readabilityHandler = { lines.append($0.availableData) }
        try await waitUntil("the initial watch event", timeout: .seconds(20)) { lines.text.contains("0") }
        _ = try await client.updateScale(ModelService.self, name: "kc", replicas: 0)
        _ = try await client.patch(
            ModelService.self, name: "kc", patch: .object(["spec": .object(["model": .string("kc2")])]))
        try await waitUntil("a streamed change", timeout: .seconds(20)) { lines.text.split(separator: "\n").count >= 2 }
        watcher.terminate()

        (status, output) = try await kubectl(kc, ["delete", "modelservice", "kc"])
        #expect(status == 0 && output.contains("deleted"), "\(output)")
        await #expect { try await client.get(ModelService.self, name: "kc") } throws: { ($0 as? Status)?.code == 404 }
    }
}

/// Collects a child's output from its readability handler.
final class LineCollector: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.withLock { data.append(d) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
