/// What one engine step computes: the input to the step time.
public struct StepWork: Sendable, Equatable {
    /// Prompt tokens computed in this step (prefill chunks).
    public var prefillTokens: Int = 0
    /// Sum over prefill chunks of attention pairs: each new token attends to every earlier token of its sequence.
    public var prefillAttentionPairs: Double = 0
    /// Sequences producing their next token.
    public var decodeSequences: Int = 0
    /// KV tokens read by the decoding sequences (their context lengths).
    public var decodeContextTokens: Int = 0
    /// Distinct LoRA adapters in the batch.
    public var adapters: Int = 0

    public init() {}

    /// Tokens the step feeds through the model.
    public var tokens: Int { prefillTokens + decodeSequences }
}

/// Roofline step time for a profile. Pure: the same work always costs the same time.
public struct StepCostModel: Sendable {
    public let profile: SimulatorProfile

    public init(profile: SimulatorProfile) { self.profile = profile }

    /// Seconds one step of `work` takes on the replica.
    public func duration(of work: StepWork) -> Double {
        guard work.tokens > 0 else { return 0 }
        let p = profile
        let devices = Double(p.tensorParallelSize)
        // Compute: 2 FLOPs per parameter per token for the linear layers, 4·hidden per layer per attention pair.
        let linearFLOPs = 2 * p.parameters * Double(work.tokens)
        let attentionFLOPs =
            4 * Double(p.layers * p.hiddenSize)
            * (work.prefillAttentionPairs + Double(work.decodeContextTokens))
        let compute = (linearFLOPs + attentionFLOPs) / (p.peakFLOPs * devices * p.prefillEfficiency)
        // Memory: weights once, plus the KV cache of every token attended to by decodes and prefill chunks.
        let kvTokens = Double(work.decodeContextTokens) + Double(work.prefillTokens)
        let bytes = p.weightBytesPerDevice * devices + kvTokens * p.kvBytesPerToken
        let memory = bytes / (p.memoryBandwidth * devices * p.decodeEfficiency)
        // Each extra adapter in a batch adds a small LoRA kernel cost (punica-style batched GEMV).
        let lora = Double(work.adapters) * 0.02 * memory
        return p.stepOverhead + p.communicationPerStep + max(compute, memory) + lora
    }
}
