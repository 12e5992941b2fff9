/// What the routing decision knows of a request: the model it goes to (after any rewrite), its criticality,
/// and how each endpoint relates to it (prefix blocks already sent there, the session's last endpoint).
public struct RoutingRequest: Sendable, Equatable {
    /// The model name sent upstream.
    public var model: String
    /// The LoRA adapter the model name refers to, when it is one.
    public var adapter: String?
    public var criticality: Criticality
    /// Full prompt blocks (of the pool's block size).
    public var blockCount: Int
    /// Prompt tokens; 0 when the gateway did not tokenize the prompt (no scorer reads it).
    public var promptTokens: Int
    /// Tokens per block, to turn a prefix match into tokens.
    public var blockSize: Int
    /// Endpoint id → how many leading blocks of this prompt the gateway has sent there before.
    public var prefixMatches: [String: Int]
    /// The endpoint the request's session went to last, when it names a session.
    public var sessionEndpoint: String?

    public init(
        model: String, adapter: String? = nil, criticality: Criticality = .standard, blockCount: Int = 0,
        promptTokens: Int = 0, blockSize: Int = 16, prefixMatches: [String: Int] = [:], sessionEndpoint: String? = nil
    ) {
        self.model = model
        self.adapter = adapter
        self.criticality = criticality
        self.blockCount = blockCount
        self.promptTokens = promptTokens
        self.blockSize = blockSize
        self.prefixMatches = prefixMatches
        self.sessionEndpoint = sessionEndpoint
    }

    /// Prompt tokens `endpoint` would have to compute: those past its prefix match.
    public func uncachedTokens(on endpoint: String) -> Int {
        let matched = min(prefixMatches[endpoint] ?? 0, blockCount) * blockSize
        return max(0, promptTokens - matched)
    }
}
