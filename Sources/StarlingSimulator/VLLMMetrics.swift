import Foundation
import StarlingOpenAI

/// Renders the engine's state as vLLM's Prometheus metrics (names and labels of vLLM's v1 metrics loggers).
///
/// These are the model server's protocol with the gateway and the autoscaler, so they are written from the
/// engine's own counters rather than through swift-metrics: the LoRA info gauge's labels change with the adapters
/// in use and its value is a timestamp, which a metrics backend would keep as ever more series.
struct VLLMMetrics {
    var modelName: String
    var configuration: EngineConfiguration
    var timeScale: Double

    /// The exposition; with `names`, only the samples of those names (prometheus_client's `name[]`), the rest not
    /// even rendered: the gateway scrapes five gauges twenty times a second.
    func render(_ snapshot: EngineSnapshot, now: Date = Date(), only names: Set<String>? = nil) -> String {
        let labels = "engine=\"0\",model_name=\(JSONText.string(modelName))"
        var out = ExpositionWriter(names: names)
        func sample(_ name: String, _ value: Double) { sample(name, "", value) }
        func sample(_ name: String, _ extra: String, _ value: Double) {
            out.sample(name) { "{\(extra.isEmpty ? labels : labels + "," + extra)} \(Self.format(value))" }
        }
        let stats = snapshot.statistics

        out.family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.")
        sample("vllm:num_requests_running", Double(snapshot.running))
        out.family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.")
        sample("vllm:num_requests_waiting", Double(snapshot.waiting))
        out.family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.")
        sample("vllm:kv_cache_usage_perc", snapshot.kvCacheUsage)
        out.family("vllm:lora_requests_info", "gauge", "Running stats on lora requests.")
        let running = snapshot.runningAdapters.sorted().joined(separator: ",")
        let waiting = snapshot.waitingAdapters.sorted().joined(separator: ",")
        sample(
            "vllm:lora_requests_info",
            "max_lora=\"\(configuration.maxLoras)\",running_lora_adapters=\(JSONText.string(running)),"
                + "waiting_lora_adapters=\(JSONText.string(waiting))",
            now.timeIntervalSince1970)
        out.family("vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig")
        sample(
            "vllm:cache_config_info",
            "block_size=\"\(configuration.blockSize)\",enable_prefix_caching=\""
                + (configuration.enablePrefixCaching ? "True" : "False")
                + "\",gpu_memory_utilization=\"\(configuration.profile.memoryUtilization)\","
                + "num_gpu_blocks=\"\(configuration.numGPUBlocks)\"",
            1)

        out.family(
            "vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.")
        sample("vllm:prefix_cache_queries_total", Double(stats.prefixCacheQueries))
        out.family("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.")
        sample("vllm:prefix_cache_hits_total", Double(stats.prefixCacheHits))
        out.family("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.")
        sample("vllm:num_preemptions_total", Double(stats.preemptions))
        out.family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.")
        sample("vllm:prompt_tokens_total", Double(stats.promptTokens))
        out.family("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.")
        sample("vllm:generation_tokens_total", Double(stats.generationTokens))
        out.family("vllm:request_success_total", "counter", "Count of successfully processed requests.")
        for reason in [FinishReason.stop, .length, .abort] {
            sample(
                "vllm:request_success_total", "finished_reason=\"\(reason.rawValue)\"",
                Double(stats.finished[reason] ?? 0))
        }

        histogram(
            &out, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
            stats.timeToFirstToken, labels)
        histogram(
            &out, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
            stats.interTokenLatency, labels)
        histogram(
            &out, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
            stats.endToEndLatency, labels)
        histogram(
            &out, "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.", stats.queueTime, labels)

        out.family("starling_sim_time_scale", "gauge", "Simulated seconds per wall-clock second.")
        out.sample("starling_sim_time_scale") { " \(Self.format(timeScale))" }
        out.family("starling_sim_step_lateness_max_seconds", "gauge", "Largest wall-clock lateness of an engine step.")
        out.sample("starling_sim_step_lateness_max_seconds") { " \(Self.format(snapshot.maxLateness))" }
        histogram(
            &out, "starling_sim_step_lateness_seconds",
            "Wall-clock seconds by which engine steps ended later than planned.", snapshot.lateness, "")
        return out.text
    }

    private func histogram(
        _ out: inout ExpositionWriter, _ name: String, _ help: String, _ h: LatencyHistogram, _ labels: String
    ) {
        out.family(name, "histogram", help)
        let prefix = labels.isEmpty ? "" : labels + ","
        let bucket = name + "_bucket"
        if out.wants(bucket) {
            var cumulative: UInt64 = 0
            for (i, bound) in h.bounds.enumerated() {
                cumulative += h.counts[i]
                out.sample(bucket) { "{\(prefix)le=\"\(Self.format(bound))\"} \(cumulative)" }
            }
            out.sample(bucket) { "{\(prefix)le=\"+Inf\"} \(h.count)" }
        }
        let braces = labels.isEmpty ? "" : "{\(labels)}"
        out.sample(name + "_sum") { "\(braces) \(Self.format(h.sum))" }
        out.sample(name + "_count") { "\(braces) \(h.count)" }
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
        return String(value)
    }
}
