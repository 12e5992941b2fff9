/// The limits one HTTP server puts on each client connection and on all of them together. Every server Starling
/// runs (the gateway, the API server) has them, with defaults chosen against nginx's, Envoy's and kube-apiserver's
/// (docs/limits.md gives each one's figures and the reasons).
public struct ConnectionLimits: Sendable, Equatable {
    /// Longest time from a connection's start to its first request's complete head (TLS handshake included), and
    /// from a request head's first byte to its end: slow-header ("slowloris") clients are closed after it.
    public var headerTimeout: Duration
    /// Longest time to receive a request's whole body once its head is in; 408 and a close after it.
    public var bodyTimeout: Duration
    /// Longest a kept-alive connection may wait for its next request.
    public var idleTimeout: Duration
    /// Most connections open at once; more are answered 503 with `retry-after` and closed.
    public var maxConnections: Int
    /// Most bytes of request bodies held in memory at once over all connections; a request that would go past it
    /// is answered 503 (429 on the API server) with `retry-after`.
    public var maxBufferedBodyBytes: Int
    /// Length of the listen queue for connections not yet accepted (the kernel caps it at `somaxconn`).
    public var listenBacklog: Int

    public init(
        headerTimeout: Duration, bodyTimeout: Duration, idleTimeout: Duration, maxConnections: Int,
        maxBufferedBodyBytes: Int, listenBacklog: Int
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
        self.listenBacklog = listenBacklog
    }

    /// The gateway's defaults. Headers in 10 s (nginx allows 60 s, Envoy has no limit by default; an inference
    /// client sends its head at once, and 10 s frees a slow-header client's slot six times sooner), bodies in 60 s
    /// (nginx's client_body_timeout; a 8 MiB body then needs 140 KB/s), keep-alive 75 s (nginx's
    /// keepalive_timeout; longer than the 60 s idle timeouts of common client pools, so the client closes first),
    /// 10,000 connections (nginx's 512 per worker would refuse a burst Envoy takes), 1 GiB of bodies (128 maximal
    /// 8 MiB prompts), a backlog of 4,096 (Linux's somaxconn since 5.4; nginx's 511 overflowed in a burst test).
    public static let gateway = ConnectionLimits(
        headerTimeout: .seconds(10), bodyTimeout: .seconds(60), idleTimeout: .seconds(75), maxConnections: 10_000,
        maxBufferedBodyBytes: 1 << 30, listenBacklog: 4096)

    /// Health probes (`/healthz`, `/readyz`): only the kubelet and people call them, with tiny requests.
    public static let probes = ConnectionLimits(
        headerTimeout: .seconds(5), bodyTimeout: .seconds(5), idleTimeout: .seconds(30), maxConnections: 64,
        maxBufferedBodyBytes: 64 << 10, listenBacklog: 128)

    /// The API server's defaults, after kube-apiserver's: 32 s for the head and handshake (its ReadHeaderTimeout),
    /// 60 s for a body, 90 s idle (Go's http.Transport closes idle connections after 90 s, so kubectl and
    /// client-go close first), 4,096 connections, 64 MiB of bodies (21 maximal 3 MiB objects), a backlog of 4,096.
    public static let apiServer = ConnectionLimits(
        headerTimeout: .seconds(32), bodyTimeout: .seconds(60), idleTimeout: .seconds(90), maxConnections: 4096,
        maxBufferedBodyBytes: 64 << 20, listenBacklog: 4096)

    /// Problems with the limits, naming the setting as `prefix` + its name.
    public func validate(prefix: String = "") -> [String] {
        var problems: [String] = []
        for (name, value) in [
            ("headerTimeout", headerTimeout), ("bodyTimeout", bodyTimeout), ("idleTimeout", idleTimeout),
        ] where value <= .zero {
            problems.append("\(prefix)\(name): must be positive, got \(value)")
        }
        for (name, value) in [
            ("maxConnections", maxConnections), ("maxBufferedBodyBytes", maxBufferedBodyBytes),
            ("listenBacklog", listenBacklog),
        ] where value < 1 {
            problems.append("\(prefix)\(name): must be at least 1, got \(value)")
        }
        return problems
    }

    /// These limits with `maxConnections` lowered to fit `openFiles` descriptors: each connection may need a
    /// second one (the gateway's upstream connection), and `reserve` stay for everything else.
    public func fitting(openFiles: Int, descriptorsPerConnection: Int = 2, reserve: Int = 256) -> ConnectionLimits {
        var fitted = self
        fitted.maxConnections = max(1, min(maxConnections, (openFiles - reserve) / max(1, descriptorsPerConnection)))
        return fitted
    }
}
