import CStarlingProcess
import Foundation
import Logging
import StarlingAPI

#if canImport(Glibc)
import Glibc
#endif

/// How the node agent finds every process a pod started, `setsid` and double-forked descendants included, to end
/// them when the pod is deleted, when its main process exits, and when Starling dies.
///
/// - `cgroup`: each pod runs in a cgroup v2 of its own under one per agent (`starling-<id>/pod-<uid>`), joined
///   between fork and exec, so nothing the pod starts can leave it; `cgroup.kill` ends the whole tree at once.
///   Exact, and immune to pid reuse. Needs a writable cgroup2 hierarchy with `cgroup.kill` (Linux 5.14+): root,
///   or a delegated subtree such as a systemd user slice.
/// - `environment`: elsewhere, every pod process carries `STARLING_POD_UID` and `STARLING_AGENT` in its
///   environment, which its descendants inherit; the agent finds them through `/proc/<pid>/environ` and signals
///   each through a pidfd taken before the read, so a reused pid is never signalled. A process that clears its
///   own environment escapes it, so `cgroup` is preferred whenever the kernel allows it. A child subreaper was not
///   used: it would make Starling reap every orphan with `waitpid(-1)`, racing the reaping of its other children,
///   and it ends nothing once Starling itself is gone.
///
/// In both modes a watchdog process (`starling_start_watchdog`) waits on a pipe whose only write end is Starling's
/// and, when Starling dies (SIGKILL included), ends every pod process the same way.
public struct PodContainment: Sendable {
    /// What a user may ask for (`nodeAgent.containment`): `auto` picks `cgroup` where it works.
    public enum Mode: String, Sendable, CaseIterable {
        case auto, cgroup, environment
    }

    /// The mode in force.
    public enum Kind: Sendable, Equatable {
        /// Pods' cgroups live under `root` (a directory of the cgroup2 file system).
        case cgroup(root: String)
        case environment
    }

    public let kind: Kind
    /// Identifies this agent's pods across restarts: derived from its run directory.
    public let agentID: String

    /// The name of the environment entry that marks a pod's processes with the pod's uid.
    public static let podUIDVariable = "STARLING_POD_UID"
    /// The name of the environment entry that marks every pod process of one agent.
    public static let agentVariable = "STARLING_AGENT"

    init(kind: Kind, agentID: String) {
        self.kind = kind
        self.agentID = agentID
    }

    /// Chooses the mode for an agent whose state lives in `runDirectory`; `auto` falls back to `environment`,
    /// logging why, when no cgroup2 hierarchy can be written here.
    public static func make(mode: Mode, runDirectory: String, logger: Logger) throws -> PodContainment {
        let id = agentID(for: runDirectory)
        if mode == .environment { return PodContainment(kind: .environment, agentID: id) }
        switch cgroupRoot(agentID: id) {
        case .success(let root):
            return PodContainment(kind: .cgroup(root: root), agentID: id)
        case .failure(let reason):
            if mode == .cgroup {
                throw ChildProcess.StartError(description: "cannot contain pods in cgroups: \(reason)")
            }
            logger.notice(
                "pods are tracked by their environment, not by cgroups",
                metadata: ["containment.reason": "\(reason)"])
            return PodContainment(kind: .environment, agentID: id)
        }
    }

    /// A stable id for the agent whose state lives in `runDirectory` (FNV-1a of its absolute path).
    static func agentID(for runDirectory: String) -> String {
        let path = URL(fileURLWithPath: runDirectory).standardizedFileURL.path
        return String(FNV1a.hash(path.utf8), radix: 16)
    }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// The agent's cgroup directory, created if needed, when cgroup2 is mounted, writable and has `cgroup.kill`.
    static func cgroupRoot(agentID: String) -> Result<String, Unavailable> {
        guard let mountinfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else {
            return .failure(Unavailable(description: "cannot read /proc/self/mountinfo"))
        }
        // Fields: id parent major:minor root mount-point options ... - fstype source super-options
        let mount = mountinfo.split(separator: "\n").lazy.compactMap { line -> String? in
            let parts = line.split(separator: " ")
            guard let dash = parts.firstIndex(of: "-"), dash + 1 < parts.count, parts[dash + 1] == "cgroup2",
                parts.count > 4
            else { return nil }
            return String(parts[4])
        }.first
        guard let mount else { return .failure(Unavailable(description: "no cgroup2 file system is mounted")) }
        let own =
            (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? "/"
        let base = own == "/" ? mount : mount + own
        let root = "\(base)/starling-\(agentID)"
        if mkdir(root, 0o755) != 0 && errno != EEXIST {
            return .failure(Unavailable(description: "cannot create \(root): \(String(cString: strerror(errno)))"))
        }
        guard access("\(root)/cgroup.kill", W_OK) == 0, access("\(root)/cgroup.procs", W_OK) == 0 else {
            rmdir(root)
            return .failure(Unavailable(description: "\(root) has no writable cgroup.kill (needs Linux 5.14+)"))
        }
        return .success(root)
    }

    /// The cgroup directory of the pod with `uid`.
    func cgroupPath(_ uid: String) -> String? {
        if case .cgroup(let root) = kind { return "\(root)/pod-\(uid)" }
        return nil
    }

    /// The environment entry that marks the processes of the pod with `uid`.
    func podTag(_ uid: String) -> String { "\(Self.podUIDVariable)=\(uid)" }

    /// The environment entry that marks every pod process of this agent.
    var agentTag: String { "\(Self.agentVariable)=\(agentID)" }

    /// Environment entries every process of the pod carries.
    func environment(uid: String) -> [String: String] {
        [Self.podUIDVariable: uid, Self.agentVariable: agentID]
    }

    /// Prepares the pod's cgroup and returns an open descriptor of its `cgroup.procs` for the child to join
    /// (close it after the spawn), or -1 in `environment` mode.
    func prepare(uid: String) throws -> Int32 {
        guard let path = cgroupPath(uid) else { return -1 }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw ChildProcess.StartError(
                description: "cannot create cgroup \(path): \(String(cString: strerror(errno)))")
        }
        let fd = open("\(path)/cgroup.procs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ChildProcess.StartError(
                description: "cannot open \(path)/cgroup.procs: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Sends `signal` to every process of the pod; returns how many there were (in cgroup mode, after SIGKILL, 0:
    /// the kernel kills the tree itself).
    @discardableResult
    func signal(uid: String, _ signal: Int32) -> Int {
        if let path = cgroupPath(uid) {
            if signal == SIGKILL {
                Self.write("1", to: "\(path)/cgroup.kill")
                return 0
            }
            let pids = Self.pids(inCgroup: path)
            for pid in pids { kill(pid, signal) }
            return pids.count
        }
        return max(0, Int(starling_signal_tagged(podTag(uid), signal)))
    }

    /// Whether any process of the pod is still alive.
    func isEmpty(uid: String) -> Bool {
        if let path = cgroupPath(uid) {
            guard let events = try? String(contentsOfFile: "\(path)/cgroup.events", encoding: .utf8) else {
                return true
            }
            return !events.contains("populated 1")
        }
        return starling_signal_tagged(podTag(uid), 0) <= 0
    }

    /// Removes the pod's cgroup once it is empty (a no-op otherwise, and in environment mode).
    func release(uid: String) {
        if let path = cgroupPath(uid) { rmdir(path) }
    }

    /// Ends every process left by an earlier run of this agent (found by cgroup or by tag, never by a saved pid)
    /// and removes its cgroups; returns how many pods' cgroups or processes it found.
    func endLeftovers() async -> Int {
        var found = 0
        switch kind {
        case .cgroup(let root):
            let pods = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter {
                $0.hasPrefix("pod-")
            }
            for pod in pods where !Self.pids(inCgroup: "\(root)/\(pod)").isEmpty { found += 1 }
            Self.write("1", to: "\(root)/cgroup.kill")
            let deadline = ContinuousClock.now + .seconds(5)
            for pod in pods {
                while rmdir("\(root)/\(pod)") != 0 && errno == EBUSY && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
        case .environment:
            found = max(0, Int(starling_signal_tagged(agentTag, SIGKILL)))
        }
        return found
    }

    /// Removes the agent's own cgroup once every pod's is gone (on shutdown).
    func removeRoot() {
        if case .cgroup(let root) = kind { rmdir(root) }
    }

    /// Starts the watchdog that ends every pod process when this process dies.
    func startWatchdog() throws -> Int32 {
        var root: String?
        if case .cgroup(let path) = kind { root = path }
        let pid = starling_start_watchdog(root, agentTag)
        if pid < 0 {
            throw ChildProcess.StartError(
                description: "cannot start the pod watchdog: \(String(cString: strerror(-pid)))")
        }
        return pid
    }

    static func pids(inCgroup path: String) -> [Int32] {
        ((try? String(contentsOfFile: "\(path)/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { Int32($0) }
    }

    static func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }
}
