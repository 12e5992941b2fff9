import Foundation
import StarlingTokenizer

/// A published figure a profile is calibrated against, and the scenario that reproduces its conditions.
public struct CalibrationReference: Sendable {
    public enum Scenario: Sendable {
        /// Median TTFT with Poisson arrivals at `rate` requests/s.
        case timeToFirstToken(prompt: Int, output: Int, rate: Double, maxNumSeqs: Int?)
        /// Median gap between tokens with `batch` requests decoding together.
        case interTokenLatency(batch: Int, prompt: Int, output: Int)
        /// Time per output token per running sequence in a saturated run: running sequences ÷ output tokens/s.
        case saturatedTimePerToken(prompt: Int, output: Int, maxNumSeqs: Int)
        /// Output tokens/s with the queue never empty.
        case peakOutputThroughput(prompt: Int, output: Int, maxNumSeqs: Int)
        /// Duration of one step that computes `tokens` prompt tokens of fresh requests.
        case prefillStep(tokens: Int)
    }

    /// How the published figure was obtained.
    public enum Kind: String, Sendable {
        case measured
        case derived = "derived from a measurement"
        case operatorProfile = "operator profile (linear layers)"
        case estimate = "published estimate"
        case modelOnly = "model only"
    }

    public var profile: String
    public var metric: String
    public var scenario: Scenario
    /// The published value (seconds, or tokens/s for throughput); a range when the source gives one; nil for
    /// rows shown for information where no published measurement was found.
    public var published: ClosedRange<Double>?
    public var kind: Kind
    public var source: String
    /// Allowed relative distance from the published value (or range).
    public var tolerance: Double = 0.15
}

/// One reference beside the model's value.
public struct CalibrationResult: Sendable {
    public var reference: CalibrationReference
    public var modelValue: Double

    /// Relative distance to the published value; zero inside a published range.
    public var error: Double {
        guard let range = reference.published else { return 0 }
        if range.contains(modelValue) { return 0 }
        let nearest = modelValue < range.lowerBound ? range.lowerBound : range.upperBound
        return abs(modelValue - nearest) / nearest
    }

    public var withinTolerance: Bool { error <= reference.tolerance }
}

/// Reproduces each reference's conditions in virtual time and reports the model's value.
public enum Calibration {
    static let kubecon =
        "kubernetes-sigs/inference-perf demos/kubecon-na-2025 (vLLM v0.11, 1xH100, through the GIE gateway)"

    /// Every published figure the built-in profiles are held to.
    public static let references: [CalibrationReference] = [
        .init(
            profile: "llama-3.1-8b-h100", metric: "TTFT p50, 205-token prompts at 1 req/s",
            scenario: .timeToFirstToken(prompt: 205, output: 64, rate: 1, maxNumSeqs: 128),
            published: 0.031...0.031, kind: .measured, source: kubecon),
        .init(
            profile: "llama-3.1-8b-h100", metric: "TTFT p50, 205-token prompts at 92 req/s",
            scenario: .timeToFirstToken(prompt: 205, output: 64, rate: 92, maxNumSeqs: 128),
            published: 0.045...0.045, kind: .measured, source: kubecon),
        .init(
            profile: "llama-3.1-8b-h100", metric: "ITL, batch 1",
            scenario: .interTokenLatency(batch: 1, prompt: 205, output: 64),
            published: 0.007...0.007, kind: .measured, source: kubecon + ", at 1 req/s"),
        .init(
            profile: "llama-3.1-8b-h100", metric: "TPOT, batch 1",
            scenario: .interTokenLatency(batch: 1, prompt: 256, output: 256),
            published: 0.00648...0.00648, kind: .measured,
            source: "yobitelcomm InferenceBench concurrency sweep (vLLM 0.21, H100-80GB, concurrency 1)"),
        .init(
            profile: "llama-3.1-8b-h100", metric: "Time per token per sequence, batch 128 (128 ÷ peak tok/s)",
            scenario: .saturatedTimePerToken(prompt: 205, output: 64, maxNumSeqs: 128),
            published: 0.0203...0.0203, kind: .derived,
            source: kubecon + ": 128 running sequences / 6.3k output tok/s"),
        .init(
            profile: "llama-3.1-8b-h100", metric: "Peak output tok/s (205 in / 64 out, max-num-seqs 128)",
            scenario: .peakOutputThroughput(prompt: 205, output: 64, maxNumSeqs: 128),
            published: 6300...6300, kind: .measured, source: kubecon),
        .init(
            profile: "llama-3.1-8b-h100", metric: "ITL, batch 32 (decode only, 512-token contexts)",
            scenario: .interTokenLatency(batch: 32, prompt: 512, output: 128), published: nil, kind: .modelOnly,
            source: "no published vLLM measurement at this batch found"),
        .init(
            profile: "llama-3.1-8b-h100", metric: "ITL, batch 128 (decode only, 512-token contexts)",
            scenario: .interTokenLatency(batch: 128, prompt: 512, output: 128), published: nil, kind: .modelOnly,
            source: "no published vLLM measurement at this batch found"),
        .init(
            profile: "llama-3.1-8b-h100", metric: "TTFT, 2,048-token prompt, idle",
            scenario: .timeToFirstToken(prompt: 2048, output: 16, rate: 0.5, maxNumSeqs: nil), published: nil,
            kind: .modelOnly, source: "no published vLLM measurement found"),
        .init(
            profile: "llama-3.1-8b-h100", metric: "TTFT, 8,192-token prompt, idle",
            scenario: .timeToFirstToken(prompt: 8192, output: 16, rate: 0.2, maxNumSeqs: nil), published: nil,
            kind: .modelOnly, source: "no published vLLM measurement found"),
        .init(
            profile: "llama-3.1-8b-a100", metric: "ITL, batch 1",
            scenario: .interTokenLatency(batch: 1, prompt: 1024, output: 128),
            published: 0.0102...0.0102, kind: .derived,
            source: "johnmusgrave.com A100-40GB sweep (vLLM 0.23): 75 tok/s at batch 1, scaled by HBM bandwidth "
                + "1.555 -> 2.039 TB/s"),
        .init(
            profile: "llama-3.1-8b-a100", metric: "Step time, batch 64 decode (short context)",
            scenario: .interTokenLatency(batch: 64, prompt: 16, output: 32),
            published: 0.0112...0.0112, kind: .operatorProfile,
            source: "microsoft/vidur data/profiling/compute a100 Llama-3-8B: 11.2 ms at 64 tokens"),
        .init(
            profile: "llama-3.1-8b-a100", metric: "Step time, 512-token prefill",
            scenario: .prefillStep(tokens: 512),
            published: 0.0346...0.0346, kind: .operatorProfile,
            source: "microsoft/vidur data/profiling/compute a100 Llama-3-8B: 34.6 ms at 512 tokens"),
        .init(
            profile: "llama-3.1-70b-h100-tp4", metric: "ITL, batch 1",
            scenario: .interTokenLatency(batch: 1, prompt: 256, output: 128),
            published: 0.025...0.040, kind: .estimate, source: "llm-d-inference-sim docs/latency-defaults.md"),
        .init(
            profile: "llama-3.1-70b-h100-tp8", metric: "ITL, batch 1",
            scenario: .interTokenLatency(batch: 1, prompt: 256, output: 128),
            published: 0.018...0.028, kind: .estimate, source: "llm-d-inference-sim docs/latency-defaults.md"),
    ]

    /// The model's value for every reference (or those of one profile).
    public static func run(profile: String? = nil) -> [CalibrationResult] {
        references.filter { profile == nil || $0.profile == profile }.compactMap { reference in
            guard let p = ProfileCatalog.profile(named: reference.profile) else { return nil }
            return CalibrationResult(reference: reference, modelValue: measure(reference.scenario, profile: p))
        }
    }

    /// The model's value of one scenario.
    public static func measure(_ scenario: CalibrationReference.Scenario, profile: SimulatorProfile) -> Double {
        var configuration = EngineConfiguration(profile: profile)
        switch scenario {
        case .timeToFirstToken(let prompt, let output, let rate, let maxNumSeqs):
            if let maxNumSeqs { configuration.maxNumSeqs = maxNumSeqs }
            var random = SeededRandom(seed: 7)
            var time = 0.0
            var arrivals: [(time: Double, request: EngineRequest)] = []
            let count = max(200, Int(rate * 30))
            for i in 0..<count {
                time += random.exponential(rate: rate)
                arrivals.append((time, request(i, prompt: prompt, output: output)))
            }
            let result = OfflineSimulation(configuration: configuration).run(arrivals: arrivals)
            return median(result.timesToFirstToken)
        case .interTokenLatency(let batch, let prompt, let output):
            let arrivals = (0..<batch).map { (time: 0.0, request: request($0, prompt: prompt, output: output)) }
            let result = OfflineSimulation(configuration: configuration).run(arrivals: arrivals)
            return median(result.interTokenGaps)
        case .saturatedTimePerToken(let prompt, let output, let maxNumSeqs):
            let throughput = measure(
                .peakOutputThroughput(prompt: prompt, output: output, maxNumSeqs: maxNumSeqs), profile: profile)
            return Double(maxNumSeqs) / throughput
        case .peakOutputThroughput(let prompt, let output, let maxNumSeqs):
            configuration.maxNumSeqs = maxNumSeqs
            let result = OfflineSimulation(configuration: configuration).run(
                clients: maxNumSeqs * 2, total: maxNumSeqs * 40
            ) { request($0, prompt: prompt, output: output) }
            return result.outputThroughput()
        case .prefillStep(let tokens):
            var work = StepWork()
            work.prefillTokens = tokens
            work.prefillAttentionPairs = Double(tokens) * Double(tokens + 1) / 2
            return StepCostModel(profile: profile).duration(of: work)
        }
    }

    /// A request with distinct prompt tokens (no accidental prefix hits).
    static func request(_ i: Int, prompt: Int, output: Int) -> EngineRequest {
        let tokens = (0..<prompt).map { UInt32(truncatingIfNeeded: (i &* 7919 &+ $0 &* 31) % 128_000) }
        return EngineRequest(model: "calibration-\(i)", promptTokens: tokens, outputTokens: output)
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    /// The calibration table as Markdown, for `docs/simulator.md`.
    public static func markdownTable(_ results: [CalibrationResult]) -> String {
        var lines = [
            "| Profile | Figure | Model | Published | Off by | Kind | Source |",
            "|---|---|---|---|---|---|---|",
        ]
        for result in results {
            let r = result.reference
            let isThroughput: Bool
            if case .peakOutputThroughput = r.scenario { isThroughput = true } else { isThroughput = false }
            func format(_ v: Double) -> String {
                isThroughput ? "\(Int(v.rounded())) tok/s" : String(format1(v * 1000)) + " ms"
            }
            var published = "none found"
            var off = "—"
            if let range = r.published {
                published =
                    range.lowerBound == range.upperBound
                    ? format(range.lowerBound) : "\(format(range.lowerBound))–\(format(range.upperBound))"
                off = "\(format1(result.error * 100))%"
            }
            lines.append(
                "| \(r.profile) | \(r.metric) | \(format(result.modelValue)) | \(published) | \(off) | "
                    + "\(r.kind.rawValue) | \(r.source) |")
        }
        return lines.joined(separator: "\n")
    }

    static func format1(_ v: Double) -> String {
        let rounded = (v * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) + ".0" : String(rounded)
    }
}
