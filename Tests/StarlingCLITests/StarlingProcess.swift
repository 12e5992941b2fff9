import Foundation
import StarlingAPI
import StarlingClient

#if canImport(Glibc)
import Glibc
#endif

/// A `starling up` child process for end-to-end tests, on OS-chosen loopback ports, always stopped.
final class StarlingProcess: @unchecked Sendable {
    // @unchecked: the Process is started once in init and only signalled afterwards.
    let process = Process()
    let dataDirectory: String
    let outputPath: String

    /// The built `starling` binary, next to the test bundle.
    static var binary: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("starling").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return ".build/debug/starling"
    }

    /// `arguments` follow `up --data-dir D --api-port 0 --gateway-port 0` (and `--no-demo` unless `demo`).
    convenience init(dataDirectory: String, arguments: [String], demo: Bool = false) throws {
        try self.init(
            directory: dataDirectory,
            command: ["up", "--data-dir", dataDirectory, "--api-port", "0", "--gateway-port", "0"]
                + (demo ? [] : ["--no-demo"]) + arguments)
    }

    /// Any `starling` command, its output kept in a log file in `directory`.
    init(directory: String, command: [String]) throws {
        self.dataDirectory = directory
        outputPath = "\(directory)/\(command.first ?? "starling")-\(UUID().uuidString.prefix(8)).log"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = command
        process.standardOutput = out
        process.standardError = out
        try process.run()
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits until the cluster reports it is up, then returns a client for it.
    func client(timeout: Duration = .seconds(60)) async throws -> KubeClient {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains("Starling is up.") {
                return try KubeClient(config: try KubeConfig.load(path: "\(dataDirectory)/kubeconfig"))
            }
            if !process.isRunning { throw CLIFailure("starling up exited:\n\(output)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CLIFailure("starling up did not come up in time:\n\(output)")
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL if it has not stopped within 20 seconds; returns once it has exited. The wait runs
    /// on its own thread so it never holds one of the cooperative threads other tests' servers run on.
    func stopped() async {
        guard process.isRunning else { return }
        process.terminate()
        let process = self.process
        _ = try? await onOwnThread { Self.awaitExit(process) }
    }

    /// For `defer` and `deinit`: SIGTERM now, with the wait and the SIGKILL fallback on a thread of their own.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let process = self.process
        Thread { Self.awaitExit(process) }.start()
    }

    private static func awaitExit(_ process: Process) {
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// Runs blocking work (waiting for a child process) on a thread of its own, so that it never holds one of the few
/// cooperative threads (two on a 2-core machine) that in-process servers of tests running alongside need.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Waits (bounded) for `condition`.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(60), _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while ContinuousClock.now < deadline {
        do {
            if try await condition() { return }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw CLIFailure("timed out waiting for \(what)\(lastError.map { ": \($0)" } ?? "")")
}

func processAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }
