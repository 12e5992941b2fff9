import Foundation
import Testing

@testable import StarlingNodeAgent

#if canImport(Glibc)
import Glibc
#endif

@Suite struct EnvExpansionTests {
    @Test(arguments: [
        ("--port=$(PORT)", "--port=8000"), ("$(MISSING)", "$(MISSING)"), ("$$(PORT)", "$(PORT)"),
        ("a$(PORT)b$(HOST)", "a8000bh"), ("plain", "plain"), ("$(", "$("),
    ])
    func expandsLikeKubernetes(input: String, expected: String) {
        #expect(EnvExpansion.expand(input, ["PORT": "8000", "HOST": "h"]) == expected)
    }
}

@Suite struct ChildProcessTests {
    func logPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).log").path
    }

    func waitForExit(_ p: ChildProcess) async throws -> ChildProcess.Exit {
        for _ in 0..<500 {
            if let exit = p.poll() { return exit }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("process did not exit")
        return ChildProcess.Exit(code: -1, signal: 0)
    }

    @Test func runsWithEnvironmentAndCapturesOutput() async throws {
        let log = logPath()
        defer { try? FileManager.default.removeItem(atPath: log) }
        let p = try await SpawnThread.shared.run {
            try ChildProcess.start(
                command: ["sh", "-c", "echo hello $GREETING; exit 3"],
                environment: ["PATH": "/usr/bin:/bin", "GREETING": "world"], logPath: log)
        }
        let exit = try await waitForExit(p)
        #expect(exit == ChildProcess.Exit(code: 3, signal: 0))
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "hello world\n")
    }

    @Test func signalsReachTheWholeGroup() async throws {
        let log = logPath()
        defer { try? FileManager.default.removeItem(atPath: log) }
        let p = try await SpawnThread.shared.run {
            try ChildProcess.start(command: ["sleep", "30"], environment: ["PATH": "/usr/bin:/bin"], logPath: log)
        }
        p.signalGroup(SIGTERM)
        let exit = try await waitForExit(p)
        #expect(exit.signal == Int(SIGTERM))
    }

    @Test func missingExecutableIsAClearError() {
        #expect(throws: ChildProcess.StartError.self) {
            try ChildProcess.start(
                command: ["no-such-binary-xyz"], environment: ["PATH": "/usr/bin"], logPath: "/dev/null")
        }
        do {
            _ = try ChildProcess.start(
                command: ["no-such-binary-xyz"], environment: ["PATH": "/usr/bin"], logPath: "/dev/null")
        } catch {
            #expect("\(error)".contains("executable file not found in $PATH: \"no-such-binary-xyz\""))
        }
    }
}
