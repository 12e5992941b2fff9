/// How one simulated engine is set up: a profile plus vLLM's scheduler and cache options.
public struct EngineConfiguration: Sendable, Equatable {
    public var profile: SimulatorProfile
    public var maxNumSeqs: Int
    public var maxNumBatchedTokens: Int
    public var blockSize: Int
    public var numGPUBlocks: Int
    public var enablePrefixCaching: Bool
    public var maxLoras: Int

    /// The profile's defaults; `numGPUBlocks` derived from its memory.
    public init(profile: SimulatorProfile, blockSize: Int = 16) {
        self.profile = profile
        self.maxNumSeqs = profile.maxNumSeqs
        self.maxNumBatchedTokens = profile.maxNumBatchedTokens
        self.blockSize = blockSize
        self.numGPUBlocks = profile.numGPUBlocks(blockSize: blockSize)
        self.enablePrefixCaching = true
        self.maxLoras = profile.maxLoras
    }

    /// Problems with the values, each naming the option.
    public func validate() -> [String] {
        var problems: [String] = []
        if maxNumSeqs < 1 { problems.append("--max-num-seqs must be at least 1, got \(maxNumSeqs)") }
        if maxNumBatchedTokens < 1 {
            problems.append("--max-num-batched-tokens must be at least 1, got \(maxNumBatchedTokens)")
        }
        if ![1, 2, 4, 8, 16, 32, 64, 128].contains(blockSize) {
            problems.append("--block-size must be one of 1, 2, 4, 8, 16, 32, 64, 128, got \(blockSize)")
        }
        if numGPUBlocks < 1 {
            problems.append(
                "--num-gpu-blocks must be at least 1, got \(numGPUBlocks) (the profile's memory leaves no KV cache)")
        }
        if maxLoras < 1 { problems.append("--max-loras must be at least 1, got \(maxLoras)") }
        return problems
    }
}
