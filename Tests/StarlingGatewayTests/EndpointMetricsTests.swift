import AsyncHTTPClient
import Logging
import StarlingSimulator
import Testing

@testable import StarlingGateway

@Suite struct EndpointMetricsTests {
    @Test func readsTheLoadFamiliesOfAVLLMExposition() {
        let text = """
            # HELP vllm:num_requests_running Number of requests in model execution batches.
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{engine="0",model_name="m"} 7.0
            vllm:num_requests_running_extra{engine="0"} 99.0
            vllm:num_requests_waiting{engine="0",model_name="m"} 3.0 1700000000000
            vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.42
            vllm:lora_requests_info{max_lora="2",running_lora_adapters="sql,chat",waiting_lora_adapters=""} 1.7e9
            vllm:cache_config_info{block_size="16",enable_prefix_caching="True",note="a \\"quoted\\" \\\\ value"} 1.0
            vllm:time_to_first_token_seconds_bucket{le="0.001"} 0.0
            """
        let metrics = EndpointMetrics(prometheusText: Array(text.utf8))
        #expect(metrics.running == 7 && metrics.waiting == 3 && metrics.kvCacheUsage == 0.42)
        #expect(metrics.runningAdapters == ["sql", "chat"] && metrics.waitingAdapters == [] && metrics.maxLoras == 2)
        #expect(metrics.blockSize == 16)
        let labels = EndpointMetrics.labels(of: Array(text.utf8).split(separator: 10)[7])
        #expect(labels["note"] == #"a "quoted" \ value"#)
    }

    /// Whatever the chunk boundaries, the chunks parse as the whole does; a last line with no newline counts.
    @Test(arguments: [1, 2, 5, 17, 64, 4096])
    func aScrapeParsesTheSameInChunksOfAnySize(size: Int) {
        let text = Array(
            """
            # HELP vllm:num_requests_running Number of requests in model execution batches.
            vllm:num_requests_running{engine="0",model_name="m"} 7.0
            vllm:time_to_first_token_seconds_bucket{le="0.001"} 0.0

            vllm:lora_requests_info{max_lora="2",running_lora_adapters="sql",waiting_lora_adapters="chat"} 1.7e9
            vllm:num_requests_waiting{engine="0",model_name="m"} 3.0
            vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.42
            """.utf8)
        var parser = EndpointMetrics.Parser()
        var start = 0
        while start < text.count {
            parser.feed(text[start..<min(start + size, text.count)])
            start += size
        }
        let metrics = parser.finish()
        #expect(metrics == EndpointMetrics(prometheusText: text))
        #expect(metrics.running == 7 && metrics.waiting == 3 && metrics.kvCacheUsage == 0.42)
        #expect(metrics.runningAdapters == ["sql"] && metrics.waitingAdapters == ["chat"] && metrics.maxLoras == 2)
    }

    @Test func missingFamiliesStayUnknown() {
        let metrics = EndpointMetrics(prometheusText: Array("# nothing here\nup 1\n".utf8))
        #expect(metrics == EndpointMetrics())
    }

    /// The scrape's `name[]` query gets just the families read, which parse as they do in the whole exposition.
    @Test func readsTheSimulatorsOwnMetrics() async throws {
        var configuration = ModelServerConfiguration(engine: EngineConfiguration(profile: ProfileCatalog.tiny))
        configuration.port = 0
        configuration.loraModules = [("sql-lora", "/adapters/sql")]
        let server = ModelServer(configuration: configuration, logger: Logger(label: "test"))
        try await server.withRunning { port in
            func get(_ path: String) async throws -> [UInt8] {
                let response = try await HTTPClient.shared.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)" + path), timeout: .seconds(10))
                return Array(try await response.body.collect(upTo: 1 << 22).readableBytesView)
            }
            let whole = try await get("/metrics")
            let scraped = try await get(EndpointMetrics.scrapePath)
            let metrics = EndpointMetrics(prometheusText: scraped)
            #expect(metrics.running == 0 && metrics.waiting == 0 && metrics.kvCacheUsage == 0)
            #expect(metrics.blockSize == configuration.engine.blockSize)
            #expect(metrics.maxLoras == configuration.engine.maxLoras)
            #expect(metrics.runningAdapters == [] && metrics.waitingAdapters == [])
            #expect(metrics == EndpointMetrics(prometheusText: whole))
            let samples = scraped.split(separator: UInt8(ascii: "\n")).filter { $0.first != UInt8(ascii: "#") }
            #expect(samples.count == EndpointMetrics.Family.allCases.count)
            #expect(scraped.count * 5 < whole.count, "\(scraped.count) of \(whole.count) bytes")
        }
    }
}
