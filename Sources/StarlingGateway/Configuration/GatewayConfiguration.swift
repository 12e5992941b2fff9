import StarlingServerLimits

/// Everything a gateway runs with. Built from flags or a configuration file (`GatewayConfiguration+File`).
public struct GatewayConfiguration: Sendable {
    /// One pool and the endpoints it starts with (more can be set while running).
    public struct Pool: Sendable {
        public var settings: PoolSettings
        /// Base URLs of model servers (`http://host:port`).
        public var endpoints: [EndpointAddress]

        public init(settings: PoolSettings, endpoints: [EndpointAddress] = []) {
            self.settings = settings
            self.endpoints = endpoints
        }
    }

    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8080
    /// Largest request body; larger ones get 413.
    public var maxBodyBytes = 8 << 20
    /// Timeouts, connection cap, buffered-body cap and listen backlog of the front (`limits` in the file).
    public var limits = ConnectionLimits.gateway
    /// Longest wait for an endpoint's response head; then 504.
    public var upstreamTimeout: Duration = .seconds(600)
    /// Longest wait for a new upstream connection (refused ones are retried until then); then the request goes
    /// to another endpoint.
    public var connectTimeout: Duration = .seconds(1)
    /// How often each endpoint's `/metrics` is read.
    public var scrapeInterval: Duration = .milliseconds(50)
    /// How often each endpoint's `/v1/models` is read (models and adapters come and go).
    public var modelsInterval: Duration = .seconds(2)
    /// Other endpoints tried after a connection error or a 5xx before the first byte.
    public var maxRetries = 2
    /// Header naming a session for session affinity.
    public var sessionHeader = "x-session-id"
    /// Header choosing an objective by name.
    public var objectiveHeader = "x-gateway-inference-objective"
    /// Threads the gateway's connections and scrapes run on (`eventLoops`, `--event-loops`). One is cheapest:
    /// with more, the tokens of a decode step wake several threads instead of one, which took 3.5% more CPU
    /// while streaming on two cores; and one handled the most small requests per second on that machine too
    /// (BENCHMARKS.md, section 5). Raise it for more than a few thousand requests per second on a large node.
    public var eventLoops = 1
    /// The most `eventLoops` may be.
    public static let maxEventLoops = 256
    public var pools: [Pool]
    public var objectives = ObjectiveTable()

    public init(pools: [Pool]) { self.pools = pools }
}

/// A model server's address: `id` (`host:port`, what `x-starling-endpoint` names) and its base URL.
public struct EndpointAddress: Sendable, Hashable {
    public var id: String
    public var baseURL: String

    public init(host: String, port: Int) {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        id = "\(bracketed):\(port)"
        baseURL = "http://\(id)"
    }

    /// Parses `http://host:port` (a trailing slash is allowed; the port defaults to 80), or `host:port`.
    public init(parsing text: String) throws(GatewayConfigurationError) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.contains("://") {
            throw GatewayConfigurationError("endpoint \"\(text)\": only http:// URLs are supported")
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/") else {
            throw GatewayConfigurationError("endpoint \"\(text)\": expected http://HOST:PORT with no path")
        }
        var host = rest
        var port = 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw GatewayConfigurationError("endpoint \"\(text)\": unclosed [ in the host")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else {
                    throw GatewayConfigurationError("endpoint \"\(text)\": bad port")
                }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]) else {
                throw GatewayConfigurationError(
                    "endpoint \"\(text)\": bad port \"\(rest[rest.index(after: colon)...])\"")
            }
            port = p
        }
        guard (1...65535).contains(port) else {
            throw GatewayConfigurationError("endpoint \"\(text)\": port must be 1-65535, got \(port)")
        }
        guard !host.isEmpty else { throw GatewayConfigurationError("endpoint \"\(text)\": missing host") }
        self.init(host: String(host), port: port)
    }
}

/// A configuration the gateway cannot run with; the message names the field or flag.
public struct GatewayConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
