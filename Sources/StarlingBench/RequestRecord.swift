/// One request's outcome.
public struct RequestRecord: Sendable, Codable, Equatable {
    public var stage: Int
    public var model: String
    public var timing: RequestTiming
    public var inputTokens: Int?
    public var outputTokens: Int
    /// HTTP status, nil when no response arrived.
    public var status: Int?
    /// Why it failed: `http_4xx`, `http_5xx`, `timeout`, `connection`, `stream`, `cancelled` (an interrupted run
    /// ended it), or `unsent` (a session turn whose earlier turn had not finished when the schedule ended); nil on
    /// success.
    public var error: String?
    /// The serving endpoint, when the server names it in a response header.
    public var endpoint: String?

    public var succeeded: Bool { error == nil }
}
