import Foundation
import NIOHTTP1

/// Where and how requests are sent.
public struct BenchTarget: Sendable, Equatable {
    public enum API: String, Sendable, CaseIterable { case completions, chat }

    /// Base URL of an OpenAI-compatible server, e.g. `http://127.0.0.1:8000`.
    public var baseURL: String
    public var api: API = .completions
    public var stream = true
    /// Model names used in turn (a LoRA mix is a list of adapter names, weighted by repetition).
    public var models: [String]
    public var headers: [(String, String)] = []
    /// Response header naming the endpoint that served a request (the GIE gateway's). With the default, Starling's
    /// gateway's `x-starling-endpoint` is read too.
    public var endpointHeader = BenchTarget.defaultEndpointHeader
    /// Request header carrying a multi-turn session's identity (what session-affinity routers key on: Starling's
    /// `session` scorer, vLLM router's `consistent_hash`); nil sends none.
    public var sessionHeader: String? = "x-session-id"
    /// Also send the session's identity as OpenAI's `user` field.
    public var sessionUser = false
    /// Per-request timeout, seconds.
    public var timeout = 300.0

    public init(baseURL: String, models: [String]) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.models = models
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.baseURL == b.baseURL && a.api == b.api && a.stream == b.stream && a.models == b.models
            && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
            && a.endpointHeader == b.endpointHeader && a.timeout == b.timeout && a.sessionHeader == b.sessionHeader
            && a.sessionUser == b.sessionUser
    }

    public static let defaultEndpointHeader = "x-gateway-destination-endpoint"

    /// The endpoint a response names: `endpointHeader`, or with the default also Starling's gateway's header.
    func endpoint(in headers: HTTPHeaders) -> String? {
        headers.first(name: endpointHeader)
            ?? (endpointHeader == Self.defaultEndpointHeader ? headers.first(name: "x-starling-endpoint") : nil)
    }

    /// The identity sent for session `number`.
    func sessionID(_ number: Int) -> String { "session-\(number)" }

    var path: String { api == .chat ? "/v1/chat/completions" : "/v1/completions" }

    /// The JSON body for one request (built once per request, so a plain encoder is cheap enough). `history` is a
    /// chat session's earlier messages (`role`, `content`), sent before the new user message.
    func body(
        model: String, prompt: String, maxTokens: Int, system: String? = nil, history: [[String: String]] = [],
        user: String? = nil
    ) -> Data {
        var object: [String: Any] = ["model": model, "max_tokens": maxTokens, "ignore_eos": true]
        if let user { object["user"] = user }
        if api == .chat {
            let leading = system.map { [["role": "system", "content": $0]] } ?? []
            object["messages"] = leading + history + [["role": "user", "content": prompt]]
        } else {
            object["prompt"] = system.map { $0 + "\n\n" + prompt } ?? prompt
        }
        if stream {
            object["stream"] = true
            object["stream_options"] = ["include_usage": true]
        }
        return (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
    }
}
