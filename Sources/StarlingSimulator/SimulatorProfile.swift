/// A model on an accelerator: the numbers the performance model runs on, and where they come from.
///
/// Step times follow a roofline: a step reads the weights once and every scheduled sequence's KV cache
/// (memory-bound term) and does two FLOPs per parameter per token plus attention (compute-bound term); the
/// slower of the two, at the profile's achieved efficiencies, plus a fixed per-step overhead, is the step time.
public struct SimulatorProfile: Sendable, Equatable {
    /// Name used on the command line and in `spec.server.profile`.
    public var name: String
    /// Model id served by default (`/v1/models`).
    public var model: String
    /// One-line description for `--list-profiles`.
    public var summary: String
    /// Accelerator type, as nodes label it.
    public var accelerator: String
    /// Devices one replica spans (tensor parallelism).
    public var tensorParallelSize: Int

    /// Model shape.
    public var parameters: Double
    public var layers: Int
    public var hiddenSize: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Bytes per weight and per KV element (2 for bf16).
    public var bytesPerElement: Int
    /// Longest prompt plus output (vLLM `max_model_len`).
    public var contextLength: Int

    /// Per device.
    public var deviceMemoryBytes: Double
    public var peakFLOPs: Double
    public var memoryBandwidth: Double
    /// Share of peak FLOP/s reached by prefill-heavy steps, and of bandwidth reached by decode steps.
    public var prefillEfficiency: Double
    public var decodeEfficiency: Double
    /// Fixed cost of every engine step (scheduling, kernel launches, sampling), seconds.
    public var stepOverhead: Double
    /// Tensor-parallel all-reduce cost per step, seconds (zero at TP 1).
    public var communicationPerStep: Double
    /// Time from a request's arrival to its entry into the scheduler (HTTP, tokenization, IPC), seconds.
    public var frontendOverhead: Double
    /// Memory kept for activations, CUDA graphs and the runtime, per device, bytes.
    public var reservedBytesPerDevice: Double
    /// vLLM's `gpu_memory_utilization`.
    public var memoryUtilization: Double

    /// Scheduler defaults (vLLM's for this accelerator).
    public var maxNumSeqs: Int
    public var maxNumBatchedTokens: Int
    public var maxLoras: Int
    /// Time to load a LoRA adapter into a free slot, seconds.
    public var loraLoadSeconds: Double

    /// Where the numbers come from.
    public var sources: [String]
    /// Simulated seconds from start to serving: loading weights, profiling memory, capturing CUDA graphs
    /// (`starling model-server --startup-seconds` overrides it).
    public var startupSeconds: Double = 0

    /// Bytes of weights per device.
    public var weightBytesPerDevice: Double {
        parameters * Double(bytesPerElement) / Double(tensorParallelSize)
    }

    /// KV cache bytes one token takes across the whole replica: 2 (K and V) × layers × KV heads × head dim × bytes.
    public var kvBytesPerToken: Double {
        2 * Double(layers * kvHeads * headDim * bytesPerElement)
    }

    /// KV blocks that fit in the memory left after weights and reserved memory, as vLLM sizes its cache.
    public func numGPUBlocks(blockSize: Int) -> Int {
        let freePerDevice = deviceMemoryBytes * memoryUtilization - weightBytesPerDevice - reservedBytesPerDevice
        let tokens = max(0, freePerDevice) * Double(tensorParallelSize) / kvBytesPerToken
        return Int(tokens) / blockSize
    }
}
