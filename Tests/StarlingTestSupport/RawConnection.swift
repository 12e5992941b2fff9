import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a loopback port, for tests that must send partial or slow requests.
public final class RawConnection: @unchecked Sendable {
    // @unchecked: one test task uses it at a time; the descriptor is only closed by `close()`.
    let fd: Int32

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port)).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw RawConnectionError(description: "cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    /// Sends `text` (false when the server has closed the connection).
    @discardableResult
    public func send(_ text: String) -> Bool {
        text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } >= 0
    }

    /// Reads until the server closes the connection or `timeout` passes; what was read, and whether it closed.
    public func readUntilClosed(timeout: Duration) async -> (text: String, closed: Bool) {
        var data = [UInt8]()
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) > 0 {
                let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n == 0 { return (String(decoding: data, as: UTF8.self), true) }
                if n < 0 && errno != EAGAIN { return (String(decoding: data, as: UTF8.self), true) }
                if n > 0 { data += buffer[0..<n] }
                continue
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return (String(decoding: data, as: UTF8.self), false)
    }

    private var closed = false

    /// Closes the connection (once: a second close could hit a descriptor reused by another connection).
    public func close() {
        if closed { return }
        closed = true
        Glibc.close(fd)
    }

    deinit { close() }
}

/// A connection that could not be made.
public struct RawConnectionError: Error, CustomStringConvertible {
    public var description: String
}
