/// A request as the engine sees it: tokens in, a number of tokens out.
public struct EngineRequest: Sendable {
    /// Name the client asked for (the served model or an adapter); seeds the prefix hashes.
    public var model: String
    /// LoRA adapter serving the request, nil for the base model.
    public var adapter: String?
    public var promptTokens: [UInt32]
    /// Tokens the request will generate.
    public var outputTokens: Int
    /// Why generation ends after `outputTokens`.
    public var finishReason: FinishReason

    public init(
        model: String, adapter: String? = nil, promptTokens: [UInt32], outputTokens: Int,
        finishReason: FinishReason = .length
    ) {
        self.model = model
        self.adapter = adapter
        self.promptTokens = promptTokens
        self.outputTokens = outputTokens
        self.finishReason = finishReason
    }
}

/// OpenAI's `finish_reason`.
public enum FinishReason: String, Sendable, Codable {
    case length, stop, abort
}

/// What the engine tells the owner of a request after a step.
public struct EngineEvent: Sendable, Equatable {
    /// New tokens produced (zero when a request is aborted).
    public var tokens: Int
    /// Simulated time of the step's end.
    public var time: Double
    /// Prompt tokens served from the prefix cache; set with the first token.
    public var cachedPromptTokens: Int?
    /// Set on the request's last event.
    public var finishReason: FinishReason?

    public init(tokens: Int, time: Double, cachedPromptTokens: Int? = nil, finishReason: FinishReason? = nil) {
        self.tokens = tokens
        self.time = time
        self.cachedPromptTokens = cachedPromptTokens
        self.finishReason = finishReason
    }
}
