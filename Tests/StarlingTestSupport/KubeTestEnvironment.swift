import Foundation
import StarlingManifests

/// A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler v1.20) for the
/// Kubernetes-mode tests, started once per test process by `scripts/kube-testenv serve` and stopped when the
/// process exits (the script watches its stdin and its parent). `STARLING_KUBE_TESTENV=DIR` reuses one already
/// serving in DIR. The binaries come from `scripts/kube-testenv build`, which `scripts/test` runs first; when
/// they are missing the tests fail with that instruction, never skip. The work directory (etcd data, logs) is
/// removed at the end unless `STARLING_KUBE_TESTENV_KEEP` is set.
public actor KubeTestEnvironment {
    /// Where the control plane serves and how to reach it as an administrator.
    public struct Endpoint: Sendable {
        /// The admin kubeconfig (bearer token in `system:masters`).
        public var kubeconfig: String
        /// The API server's URL.
        public var server: String
        /// kubectl v1.20, built with the control plane.
        public var kubectl: String
        /// The directory of PKI, logs and etcd data.
        public var directory: String
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public static let shared = KubeTestEnvironment()

    private var endpoint: Endpoint?
    private var starting: Task<Endpoint, any Error>?
    /// The serving script; kept so its stdin pipe stays open for the life of the process.
    private var process: Process?
    private var stdin: Pipe?

    private var definitionsInstalled = false

    /// Applies Starling's manifests (`ClusterManifests.yaml`), one suite at a time: suites running in parallel
    /// share the cluster-wide ClusterRoles, and two concurrent applies of one object can conflict (409), which is
    /// retried as kubectl users would.
    public func applyManifests(_ yaml: String) async throws {
        let cluster = try await start()
        var last = ""
        for _ in 0..<5 {
            let applied = try cluster.kubectl(["apply", "-f", "-"], input: yaml)
            if applied.status == 0 { return }
            last = applied.output
            guard last.contains("the object has been modified") || last.contains("Conflict") else { break }
        }
        throw StartError(description: "kubectl apply of Starling's manifests: \(last)")
    }

    /// Applies Starling's CustomResourceDefinitions (once per process) and waits until they are served.
    public func installDefinitions() async throws {
        if definitionsInstalled { return }
        let cluster = try await start()
        let applied = try cluster.kubectl(
            ["apply", "-f", "-"],
            input: try ClusterManifests.yaml(
                try CustomResourceDefinitions.all() + CustomResourceDefinitions.inferenceExtension()))
        guard applied.status == 0 else { throw StartError(description: "kubectl apply of the CRDs: \(applied.output)") }
        let established = try cluster.kubectl(
            ["wait", "--for=condition=Established", "--timeout=60s", "crd", "-l", "app.kubernetes.io/component=crd"])
        guard established.status == 0 else {
            throw StartError(description: "the CRDs were not established: \(established.output)")
        }
        definitionsInstalled = true
    }

    /// The running control plane, started on first use.
    public func start() async throws -> Endpoint {
        if let endpoint { return endpoint }
        if let starting { return try await starting.value }
        let task = Task { try await self.launch() }
        starting = task
        do {
            let endpoint = try await task.value
            self.endpoint = endpoint
            return endpoint
        } catch {
            starting = nil
            throw error
        }
    }

    private func launch() async throws -> Endpoint {
        let root = Self.packageRoot
        let script = root + "/scripts/kube-testenv"
        let bin = try Self.run(script, ["bin"])
        guard let bin else {
            throw StartError(
                description: "the Kubernetes test control plane is not built: run scripts/kube-testenv build "
                    + "(scripts/test does)")
        }
        if let reused = ProcessInfo.processInfo.environment["STARLING_KUBE_TESTENV"], !reused.isEmpty {
            return try Self.endpoint(directory: reused, bin: bin)
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("starling-kube-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments =
            ["serve", directory + "/env"]
            + (ProcessInfo.processInfo.environment["STARLING_KUBE_TESTENV_KEEP"] == nil
                ? ["--remove-on-exit", directory] : [])
        let input = Pipe()
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = input
        process.standardOutput = log
        process.standardError =
            FileManager.default.createFile(atPath: directory + "/serve.log", contents: nil)
            ? FileHandle(forWritingAtPath: directory + "/serve.log") : log
        try process.run()
        self.process = process
        self.stdin = input
        let ready = directory + "/env/ready"
        let deadline = ContinuousClock.now + .seconds(240)
        while !FileManager.default.fileExists(atPath: ready) {
            if !process.isRunning {
                let output = (try? String(contentsOfFile: directory + "/serve.log", encoding: .utf8)) ?? ""
                throw StartError(description: "scripts/kube-testenv serve exited:\n\(output.suffix(3000))")
            }
            if ContinuousClock.now > deadline {
                process.terminate()
                throw StartError(description: "the Kubernetes test control plane was not ready in 240 s (\(directory))")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try Self.endpoint(directory: directory + "/env", bin: bin)
    }

    private static func endpoint(directory: String, bin: String) throws -> Endpoint {
        guard let data = FileManager.default.contents(atPath: directory + "/ready"),
            let ready = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let server = ready["server"] as? String, let kubeconfig = ready["kubeconfig"] as? String
        else { throw StartError(description: "\(directory)/ready is missing or unreadable") }
        return Endpoint(kubeconfig: kubeconfig, server: server, kubectl: bin + "/kubectl", directory: directory)
    }

    /// Runs a short command and returns its trimmed standard output, or nil when it fails.
    private static func run(_ path: String, _ arguments: [String]) throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The repository root, found from this file's path.
    public static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}

extension KubeTestEnvironment.Endpoint {
    /// Runs kubectl against the control plane; returns its exit status and combined output.
    public func kubectl(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        // A fresh discovery cache per call: kubectl's own keeps kinds for minutes, so a just-created CRD's would be
        // unknown to the next command.
        let cache = directory + "/kubectl-cache-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: cache) }
        return try runKubectl(kubectl, ["--kubeconfig", kubeconfig, "--cache-dir", cache] + arguments, input: input)
    }
}

/// Runs the kubectl at `path` with `arguments`, writing `input` to its stdin; returns its exit status and combined
/// output. Blocks until it exits.
public func runKubectl(
    _ path: String, _ arguments: [String], input: String? = nil
) throws -> (
    status: Int32, output: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
