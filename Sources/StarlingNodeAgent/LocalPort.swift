import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Free loopback ports (for pods and for the embedded API server).
public enum LocalPort {
    /// A port the kernel reports free on 127.0.0.1 now.
    public static func free() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var addr = sockaddr_in()
        guard bind(fd, port: 0, &addr) == 0 else { return nil }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard ok == 0 else { return nil }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether a server could listen on `host`:`port` now (binding with SO_REUSEADDR, as NIO's servers do). Returns
    /// nil when it could, or the errno of the failed bind (EADDRINUSE when another process listens there).
    public static func bindError(host: String = "127.0.0.1", port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_addr.s_addr = inet_addr(host)
        return bind(fd, port: port, &addr) == 0 ? nil : errno
    }

    private static func bind(_ fd: Int32, port: Int, _ addr: inout sockaddr_in) -> Int32 {
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port)).bigEndian
        if addr.sin_addr.s_addr == 0 { addr.sin_addr.s_addr = inet_addr("127.0.0.1") }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}
