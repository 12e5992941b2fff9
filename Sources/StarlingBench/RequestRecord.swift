/// One request's outcome.
public struct RequestRecord: Sendable, Codable, Equatable {
    public var stage: Int
    public var model: String
    public var timing: RequestTiming
    public var inputTokens: Int?
    public var outputTokens: Int
    /// HTTP status, nil when no response arrived.
    public var status: Int?
    /// Why it failed: `http_4xx`, `http_5xx`, `timeout`, `connection`, `stream`; nil on success.
    public var error: String?
    /// The serving endpoint, when the server names it in a response header.
    public var endpoint: String?

    public var succeeded: Bool { error == nil }
}
