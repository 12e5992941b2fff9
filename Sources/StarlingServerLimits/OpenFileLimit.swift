#if canImport(Glibc)
import Glibc
#endif

/// The process's limit on open descriptors.
public enum OpenFileLimit {
    /// Raises the soft limit to the hard one (as Go's runtime and systemd services do) so that connection caps, not
    /// EMFILE, bound a server; returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseSoftToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return min(Int(clamping: limit.rlim_cur), Int(Int32.max))
    }

    /// The soft limit now.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return min(Int(clamping: limit.rlim_cur), Int(Int32.max))
    }
}
