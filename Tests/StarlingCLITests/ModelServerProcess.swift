import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `starling model-server` child process on an OS-chosen loopback port, for gateway tests that need real
/// processes (one is killed mid-stream). Always stopped.
final class ModelServerProcess: @unchecked Sendable {
    // @unchecked: the Process is started once in init and only signalled afterwards.
    let process = Process()
    let outputPath: String
    private(set) var port = 0

    init(_ arguments: [String]) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("starling-gw-tests").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        outputPath = "\(directory)/sim-\(UUID().uuidString.prefix(8)).log"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: StarlingProcess.binary)
        process.arguments = ["model-server", "--port", "0", "--profile", "tiny"] + arguments
        process.standardOutput = out
        process.standardError = out
        try process.run()
    }

    /// Starts the servers and waits until each one listens.
    static func start(_ count: Int, _ arguments: [String] = []) async throws -> [ModelServerProcess] {
        let servers = try (0..<count).map { _ in try ModelServerProcess(arguments) }
        for server in servers { try await server.waitListening() }
        return servers
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var id: String { "127.0.0.1:\(port)" }

    func waitListening() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let range = output.range(of: #"http.port=(\d+)"#, options: .regularExpression) {
                port = Int(output[range].dropFirst("http.port=".count)) ?? 0
                return
            }
            if !process.isRunning { throw CLIFailure("model server exited:\n\(output)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CLIFailure("model server did not start:\n\(output)")
    }

    func kill9() async {
        kill(process.processIdentifier, SIGKILL)
        let process = self.process
        _ = try? await onOwnThread { process.waitUntilExit() }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let process = self.process
        Thread {
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }.start()
    }

    deinit { stop() }
}
