import StarlingOpenAI

/// An error the gateway answers itself, in OpenAI's error shape, with a `retry-after` for shed requests.
struct GatewayError: Error, Sendable, Equatable {
    var error: OpenAIError
    /// Seconds, sent as `retry-after`.
    var retryAfter: Int?

    init(_ error: OpenAIError, retryAfter: Int? = nil) {
        self.error = error
        self.retryAfter = retryAfter
    }

    init(status: Int, _ message: String, type: String, param: String? = nil, retryAfter: Int? = nil) {
        self.init(OpenAIError(status: status, message: message, type: type, param: param), retryAfter: retryAfter)
    }

    static func shed(_ reason: String, retryAfter: Int) -> GatewayError {
        GatewayError(status: 429, "Too many requests: \(reason)", type: "RateLimitError", retryAfter: retryAfter)
    }

    static func noEndpoint(_ message: String) -> GatewayError {
        GatewayError(status: 503, message, type: "ServiceUnavailableError")
    }

    static func badGateway(_ message: String) -> GatewayError {
        GatewayError(status: 502, message, type: "BadGatewayError")
    }

    static func timeout(_ message: String) -> GatewayError {
        GatewayError(status: 504, message, type: "GatewayTimeoutError")
    }
}
