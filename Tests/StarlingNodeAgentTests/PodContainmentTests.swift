import Foundation
import Logging
import StarlingTestSupport
import Testing

@testable import StarlingNodeAgent

#if canImport(Glibc)
import Glibc
#endif

/// Pods inherit no descriptor of Starling's, and every process a pod starts, `setsid` descendants included, is
/// found and ended: by cgroup where the kernel allows it, by environment tag everywhere.
@Suite(.serialized) struct PodContainmentTests {
    static let cgroupsWork: Bool = {
        if case .success(let root) = PodContainment.cgroupRoot(agentID: "probe-\(getpid())") {
            rmdir(root)
            return true
        }
        return false
    }()

    static var modes: [PodContainment.Mode] { cgroupsWork ? [.cgroup, .environment] : [.environment] }

    let logger = Logger(label: "test.containment")

    func temporaryDirectory() throws -> String {
        try scratchDirectory("containment")
    }

    /// Starts `script` under sh as pod `uid` would be, returning the main process.
    func startPod(_ containment: PodContainment, uid: String, script: String, log: String) async throws -> ChildProcess
    {
        var env = ["PATH": "/usr/bin:/bin"]
        for (k, v) in containment.environment(uid: uid) { env[k] = v }
        let procs = try containment.prepare(uid: uid)
        defer { if procs >= 0 { close(procs) } }
        let environment = env
        return try await SpawnThread.shared.run {
            try ChildProcess.start(
                command: ["sh", "-c", script], environment: environment, logPath: log, cgroupProcs: procs)
        }
    }

    /// Reads a pid the script wrote to `path`, waiting for it.
    func pid(in path: String) async throws -> Int32 {
        for _ in 0..<500 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return pid
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ChildProcess.StartError(description: "no pid in \(path)")
    }

    func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<500 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func aPodInheritsOnlyStandardDescriptors() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A listening socket opened without close-on-exec, as the API server's was.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        #expect(listener > 2)
        let containment = try PodContainment.make(mode: .environment, runDirectory: dir, logger: logger)
        let log = "\(dir)/pod.log"
        let main = try await startPod(containment, uid: "fds", script: "ls /proc/$$/fd", log: log)
        for _ in 0..<500 where main.poll() == nil { try await Task.sleep(for: .milliseconds(10)) }
        let open = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(open == ["0", "1", "2"], "the shell holds descriptors \(open); only 0, 1 and 2 were expected")
    }

    @Test(arguments: modes)
    func setsidDescendantsEndWithThePod(_ mode: PodContainment.Mode) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let containment = try PodContainment.make(mode: mode, runDirectory: dir, logger: logger)
        defer { containment.removeRoot() }
        let uid = "pod-\(UUID().uuidString.prefix(8))"
        let main = try await startPod(
            containment, uid: uid, script: "setsid sh -c 'echo $$ > \(dir)/escaped; exec sleep 300' & exec sleep 300",
            log: "\(dir)/pod.log")
        let escaped = try await pid(in: "\(dir)/escaped")
        #expect(processIsRunning(escaped))
        #expect(!containment.isEmpty(uid: uid))
        // The escaped process is in a session and group of its own: the old process-group kill missed it.
        main.signalGroup(SIGKILL)
        for _ in 0..<500 where main.poll() == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(processIsRunning(escaped))
        containment.signal(uid: uid, SIGKILL)
        try await waitUntil("the escaped process to end") { !processIsRunning(escaped) }
        try await waitUntil("the pod to be empty") { containment.isEmpty(uid: uid) }
        containment.release(uid: uid)
        if let path = containment.cgroupPath(uid) { #expect(!FileManager.default.fileExists(atPath: path)) }
    }

    @Test(arguments: modes)
    func aRestartedAgentEndsWhatAnEarlierRunLeft(_ mode: PodContainment.Mode) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let earlier = try PodContainment.make(mode: mode, runDirectory: "\(dir)/run", logger: logger)
        _ = try await startPod(
            earlier, uid: "left", script: "setsid sh -c 'echo $$ > \(dir)/left; exec sleep 300' & exec sleep 300",
            log: "\(dir)/pod.log")
        let left = try await pid(in: "\(dir)/left")
        // An unrelated process with a similar environment is not touched.
        let bystander = try await SpawnThread.shared.run {
            try ChildProcess.start(
                command: ["sleep", "300"],
                environment: ["PATH": "/usr/bin:/bin", PodContainment.agentVariable: "other-agent"],
                logPath: "\(dir)/bystander.log")
        }
        defer { bystander.signalGroup(SIGKILL) }
        let later = try PodContainment.make(mode: mode, runDirectory: "\(dir)/run", logger: logger)
        defer { later.removeRoot() }
        #expect(later.agentID == earlier.agentID)
        #expect(await later.endLeftovers() >= 1)
        try await waitUntil("the leftover to end") { !processIsRunning(left) }
        #expect(processIsRunning(bystander.pid))
    }

    @Test func agentIDsDifferPerRunDirectory() {
        #expect(PodContainment.agentID(for: "/a/run") != PodContainment.agentID(for: "/b/run"))
        #expect(PodContainment.agentID(for: "/a/run") == PodContainment.agentID(for: "/a/./run"))
    }
}
