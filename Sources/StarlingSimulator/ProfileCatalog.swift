/// The built-in profiles. Hardware constants come from vendor data sheets; achieved efficiencies and overheads are
/// fitted to the published measurements listed in `docs/simulator.md` (see `CalibrationReference`).
public enum ProfileCatalog {
    /// Every built-in profile, in `--list-profiles` order.
    public static let all: [SimulatorProfile] = [
        llama31_8B_H100, llama31_8B_A100, llama31_70B_H100_TP4, llama31_70B_H100_TP8, tiny,
    ]

    /// The profile called `name`, if any.
    public static func profile(named name: String) -> SimulatorProfile? { all.first { $0.name == name } }

    /// Profile names, for error messages.
    public static var names: [String] { all.map(\.name) }

    // Device constants (dense bf16 FLOP/s, HBM bandwidth, memory as nvidia-smi reports it).
    static let h100FLOPs = 989.5e12  // NVIDIA H100 SXM5 data sheet (also inference-sim hardware_config.json)
    static let h100Bandwidth = 3.35e12
    static let h100Memory = 81_559.0 * 1_048_576
    static let a100FLOPs = 312e12  // NVIDIA A100 SXM4 80GB data sheet
    static let a100Bandwidth = 2.039e12
    static let a100Memory = 81_920.0 * 1_048_576

    static let llama8BSources = [
        "Model shape: meta-llama/Llama-3.1-8B config.json (32 layers, hidden 4096, 8 KV heads of 128; 8.03e9 params)",
        "kubernetes-sigs/inference-perf demos/kubecon-na-2025: vLLM v0.11, 1xH100, 205 in / 64 out tokens, "
            + "TTFT p50 31 ms at 1 req/s and 45 ms at 92 req/s, ITL ~7 ms, saturation ~6.3k output tok/s",
        "yobitelcomm InferenceBench concurrency sweep: vLLM 0.21, H100-80GB, Llama-3.1-8B fp16, TPOT p50 6.48 ms "
            + "at concurrency 1 and 10.94 ms at concurrency 16",
        "microsoft/vidur data/profiling/compute: Llama-3-8B on A100 linear layers 9.7 ms (1 token), 11.2 ms (64), "
            + "34.6 ms (512) per step",
        "vLLM arg_utils defaults: H100 max_num_seqs 1024 / max_num_batched_tokens 8192; A100 256 / 2048",
    ]

    /// Llama-3.1-8B-Instruct, bf16, one H100-80GB SXM.
    public static let llama31_8B_H100 = SimulatorProfile(
        name: "llama-3.1-8b-h100", model: "meta-llama/Llama-3.1-8B-Instruct",
        summary: "Llama-3.1-8B-Instruct bf16 on 1x H100-80GB (vLLM defaults for H100)",
        accelerator: "H100-80GB", tensorParallelSize: 1,
        parameters: 8.03e9, layers: 32, hiddenSize: 4096, kvHeads: 8, headDim: 128, bytesPerElement: 2,
        contextLength: 131_072,
        deviceMemoryBytes: h100Memory, peakFLOPs: h100FLOPs, memoryBandwidth: h100Bandwidth,
        prefillEfficiency: 0.56, decodeEfficiency: 0.80, stepOverhead: 0.0007, communicationPerStep: 0,
        frontendOverhead: 0.024, reservedBytesPerDevice: 4e9, memoryUtilization: 0.9,
        maxNumSeqs: 1024, maxNumBatchedTokens: 8192, maxLoras: 1, loraLoadSeconds: 0.02,
        sources: llama8BSources + [startupSource8B], startupSeconds: 82)

    /// Llama-3.1-8B-Instruct, bf16, one A100-80GB SXM.
    public static let llama31_8B_A100 = SimulatorProfile(
        name: "llama-3.1-8b-a100", model: "meta-llama/Llama-3.1-8B-Instruct",
        summary: "Llama-3.1-8B-Instruct bf16 on 1x A100-80GB (vLLM defaults for A100)",
        accelerator: "A100-80GB", tensorParallelSize: 1,
        parameters: 8.03e9, layers: 32, hiddenSize: 4096, kvHeads: 8, headDim: 128, bytesPerElement: 2,
        contextLength: 131_072,
        deviceMemoryBytes: a100Memory, peakFLOPs: a100FLOPs, memoryBandwidth: a100Bandwidth,
        prefillEfficiency: 0.80, decodeEfficiency: 0.82, stepOverhead: 0.0009, communicationPerStep: 0,
        frontendOverhead: 0.024, reservedBytesPerDevice: 4e9, memoryUtilization: 0.9,
        maxNumSeqs: 256, maxNumBatchedTokens: 2048, maxLoras: 1, loraLoadSeconds: 0.03,
        sources: llama8BSources + [
            "johnmusgrave.com vLLM sweep: A100-40GB (1.555 TB/s) batch-1 decode ~75 tok/s with vLLM 0.23",
            startupSource8B,
        ], startupSeconds: 82)

    static let startupSource8B =
        "Startup: Llama-3.1-8B with weights and compile caches warm ~82 s, ~5 min uncached (tensorfuse.io); "
        + "Qwen3-32B on 1xH100 90.7 s, 43.3 s tuned (llm-d blog, 2026-08-26)"
    static let startupSource70B =
        "Startup: 70B with tensor parallelism takes several minutes (vLLM issue #19824); 240 s assumed"

    static let llama70BSources = [
        "Model shape: meta-llama/Llama-3.1-70B config.json (80 layers, hidden 8192, 8 KV heads of 128; 70.6e9 params)",
        "llm-d-inference-sim docs/latency-defaults.md (estimates, not measurements): 70B TP4 ITL 25-40 ms, "
            + "TP8 18-28 ms",
        "Roofline constants as in inference-sim hardware_config.json: H100 989.5 TFLOP/s, 3.35 TB/s",
        "Tensor-parallel cost: two all-reduces per layer (160 per step), ~25-28 us each at small batch, fitted so "
            + "batch-1 ITL lands at the low end of the estimates above",
    ]

    /// Llama-3.1-70B-Instruct, bf16, four H100-80GB with tensor parallelism.
    public static let llama31_70B_H100_TP4 = SimulatorProfile(
        name: "llama-3.1-70b-h100-tp4", model: "meta-llama/Llama-3.1-70B-Instruct",
        summary: "Llama-3.1-70B-Instruct bf16 on 4x H100-80GB, tensor parallel 4",
        accelerator: "H100-80GB", tensorParallelSize: 4,
        parameters: 70.6e9, layers: 80, hiddenSize: 8192, kvHeads: 8, headDim: 128, bytesPerElement: 2,
        contextLength: 131_072,
        deviceMemoryBytes: h100Memory, peakFLOPs: h100FLOPs, memoryBandwidth: h100Bandwidth,
        prefillEfficiency: 0.50, decodeEfficiency: 0.50, stepOverhead: 0.001, communicationPerStep: 0.004,
        frontendOverhead: 0.024, reservedBytesPerDevice: 5e9, memoryUtilization: 0.9,
        maxNumSeqs: 1024, maxNumBatchedTokens: 8192, maxLoras: 1, loraLoadSeconds: 0.06,
        sources: llama70BSources + [startupSource70B], startupSeconds: 240)

    /// Llama-3.1-70B-Instruct, bf16, eight H100-80GB with tensor parallelism.
    public static let llama31_70B_H100_TP8 = SimulatorProfile(
        name: "llama-3.1-70b-h100-tp8", model: "meta-llama/Llama-3.1-70B-Instruct",
        summary: "Llama-3.1-70B-Instruct bf16 on 8x H100-80GB, tensor parallel 8",
        accelerator: "H100-80GB", tensorParallelSize: 8,
        parameters: 70.6e9, layers: 80, hiddenSize: 8192, kvHeads: 8, headDim: 128, bytesPerElement: 2,
        contextLength: 131_072,
        deviceMemoryBytes: h100Memory, peakFLOPs: h100FLOPs, memoryBandwidth: h100Bandwidth,
        prefillEfficiency: 0.45, decodeEfficiency: 0.37, stepOverhead: 0.001, communicationPerStep: 0.0045,
        frontendOverhead: 0.024, reservedBytesPerDevice: 5e9, memoryUtilization: 0.9,
        maxNumSeqs: 1024, maxNumBatchedTokens: 8192, maxLoras: 1, loraLoadSeconds: 0.06,
        sources: llama70BSources + [startupSource70B], startupSeconds: 240)

    /// A small, fast, made-up model for tests and demos: steps of a few milliseconds and a KV cache of a few
    /// hundred blocks, so queueing, preemption and prefix reuse show up with little load.
    public static let tiny = SimulatorProfile(
        name: "tiny", model: "starling/tiny",
        summary: "Made-up 1B model on a small device: ~3 ms steps, 381 KV blocks (tests and demos)",
        accelerator: "SIM", tensorParallelSize: 1,
        parameters: 1.0e9, layers: 16, hiddenSize: 2048, kvHeads: 8, headDim: 64, bytesPerElement: 2,
        contextLength: 4096,
        deviceMemoryBytes: 2.5e9, peakFLOPs: 100e12, memoryBandwidth: 1e12,
        prefillEfficiency: 0.5, decodeEfficiency: 0.8, stepOverhead: 0.0005, communicationPerStep: 0,
        frontendOverhead: 0.001, reservedBytesPerDevice: 0.05e9, memoryUtilization: 0.9,
        maxNumSeqs: 64, maxNumBatchedTokens: 2048, maxLoras: 2, loraLoadSeconds: 0.05,
        sources: ["Made up for tests; no real model behind it"])
}
