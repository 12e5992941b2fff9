import CStarlingProcess
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A model-server process started in its own process group with only stdin, stdout and stderr open, killed by the
/// kernel if Starling dies (its descendants are `PodContainment`'s job).
public struct ChildProcess: Sendable, Equatable {
    public let pid: Int32

    /// How a process ended.
    public struct Exit: Sendable, Equatable {
        public var code: Int
        public var signal: Int
    }

    /// An error starting a process.
    public struct StartError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Starts `command` (resolved on `PATH` when it has no '/') with `environment`, output appended to `logPath`,
    /// inheriting no descriptor but stdin (/dev/null), stdout and stderr (the log). With `cgroupProcs` (an open
    /// `cgroup.procs` of a cgroup v2) the process joins that cgroup before it runs.
    public static func start(
        command: [String], environment: [String: String], logPath: String, workingDirectory: String? = nil,
        cgroupProcs: Int32 = -1
    ) throws -> ChildProcess {
        guard let program = command.first else { throw StartError(description: "empty command") }
        guard let path = resolve(program, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw StartError(description: "executable file not found in $PATH: \"\(program)\"")
        }
        let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StartError(description: "cannot open log file \(logPath): errno \(errno)") }
        defer { close(fd) }
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let pid = argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
                if let workingDirectory {
                    return starling_spawn(path, a.baseAddress, e.baseAddress, fd, workingDirectory, cgroupProcs)
                }
                return starling_spawn(path, a.baseAddress, e.baseAddress, fd, nil, cgroupProcs)
            }
        }
        if pid < 0 {
            throw StartError(description: "cannot start \(path): \(String(cString: strerror(-pid)))")
        }
        return ChildProcess(pid: pid)
    }

    static func resolve(_ program: String, path: String) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            var st = stat()
            if access(candidate, X_OK) == 0 && stat(candidate, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
                return candidate
            }
        }
        return nil
    }

    /// The exit, if the process has ended (reaps it).
    public func poll() -> Exit? {
        var code: Int32 = 0
        var sig: Int32 = 0
        let r = starling_try_wait(pid, &code, &sig)
        if r == pid { return Exit(code: Int(code), signal: Int(sig)) }
        if r < 0 { return Exit(code: -1, signal: 0) }
        return nil
    }

    /// Signals the whole process group.
    public func signalGroup(_ sig: Int32) {
        _ = starling_kill_group(pid, sig)
    }
}
