import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StarlingOpenAI
import StarlingTestSupport
import Testing

@testable import StarlingSimulator

/// Runs a model server on a free loopback port for the body, then stops it.
func withModelServer(
    timeScale: Double = 20, edit: (inout ModelServerConfiguration) -> Void = { _ in },
    _ body: (ModelServerClient) async throws -> Void
) async throws {
    var configuration = ModelServerConfiguration(engine: EngineConfiguration(profile: ProfileCatalog.tiny))
    configuration.port = 0
    configuration.timeScale = timeScale
    configuration.seed = 42
    edit(&configuration)
    let server = ModelServer(configuration: configuration, logger: Logger(label: "test"))
    try await server.withRunning { port in try await body(ModelServerClient(base: "http://127.0.0.1:\(port)")) }
}

struct ModelServerClient {
    let base: String

    func send(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    func object(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> (Int, [String: Any]) {
        let (status, body) = try await send(method, path, json: json)
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (status, try #require(object, "not a JSON object: \(body)"))
    }

    /// A metric's value from `/metrics` (first sample whose line starts with `prefix`).
    func metric(_ prefix: String) async throws -> Double? {
        let text = try await send(.GET, "/metrics").body
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return line.split(separator: " ").last.flatMap { Double($0) }
    }
}

@Suite struct ModelServerTests {
    @Test func completionHasOpenAIShapeAndIsDeterministicForASeed() async throws {
        try await withModelServer { client in
            let body = #"{"model":"starling/tiny","prompt":"Say something","max_tokens":6,"ignore_eos":true,"seed":7}"#
            let (status, json) = try await client.object(.POST, "/v1/completions", json: body)
            #expect(status == 200)
            #expect(json["object"] as? String == "text_completion")
            #expect((json["id"] as? String)?.hasPrefix("cmpl-") == true)
            #expect(json["model"] as? String == "starling/tiny")
            #expect(json["created"] is Int)
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "length")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 3)
            #expect(usage["completion_tokens"] as? Int == 6)
            #expect(usage["total_tokens"] as? Int == 9)
            let (_, again) = try await client.object(.POST, "/v1/completions", json: body)
            let text = choice["text"] as? String
            #expect(text == ((again["choices"] as? [[String: Any]])?.first?["text"] as? String))
            #expect(text.map { StarlingTokenizerCount($0) } == 6)
        }
    }

    @Test func chatWithoutIgnoreEOSStopsNaturallyOrAtTheLimit() async throws {
        try await withModelServer { client in
            let body = #"{"model":"starling/tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2000}"#
            let (status, json) = try await client.object(.POST, "/v1/chat/completions", json: body)
            #expect(status == 200)
            #expect(json["object"] as? String == "chat.completion")
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            let completion = try #require((json["usage"] as? [String: Any])?["completion_tokens"] as? Int)
            #expect(choice["finish_reason"] as? String == (completion < 2000 ? "stop" : "length"))
        }
    }

    @Test func streamParsesAsServerSentEvents() async throws {
        try await withModelServer { client in
            let body = #"""
                {"model":"starling/tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"ignore_eos":true,
                 "stream":true,"stream_options":{"include_usage":true}}
                """#
            let (status, text) = try await client.send(.POST, "/v1/chat/completions", json: body)
            #expect(status == 200)
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.allSatisfy { $0.hasPrefix("data: ") })
            #expect(events.last == "data: [DONE]")
            let chunks = try events.dropLast().map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any])
            }
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1)
            let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
            let role = (choices.first?["delta"] as? [String: Any])?["role"] as? String
            #expect(role == "assistant")
            let content = choices.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
            #expect(StarlingTokenizerCount(content) == 5)
            #expect(choices.last?["finish_reason"] as? String == "length")
            let usage = try #require(chunks.last?["usage"] as? [String: Any])
            #expect((chunks.last?["choices"] as? [Any])?.isEmpty == true)
            #expect(usage["completion_tokens"] as? Int == 5)
        }
    }

    @Test(arguments: [
        ("{not json", "/v1/completions", 400, "not valid JSON"),
        (#"{"prompt":"x"}"#, "/v1/completions", 400, "Field required: model"),
        (
            #"{"model":"starling/tiny","prompt":"x","max_tokens":0}"#, "/v1/completions", 400,
            "max_tokens must be at least 1"
        ),
        (
            #"{"model":"starling/tiny","prompt":"x","max_tokens":"5"}"#, "/v1/completions", 400,
            "max_tokens must be an integer"
        ),
        (#"{"model":"starling/tiny","prompt":"x","n":2}"#, "/v1/completions", 400, "n must be 1"),
        (
            #"{"model":"starling/tiny","prompt":"x","max_tokens":5000}"#, "/v1/completions", 400,
            "maximum context length is 4096"
        ),
        (#"{"model":"starling/tiny","prompt":"x","stream":"yes"}"#, "/v1/completions", 400, "stream must be a boolean"),
        (
            #"{"model":"starling/tiny","messages":[{"role":"robot","content":"x"}]}"#, "/v1/chat/completions", 400,
            "messages[0].role must be one of"
        ),
        (#"{"model":"starling/tiny","messages":"hi"}"#, "/v1/chat/completions", 400, "messages must be a list"),
        (#"{"model":"gpt-5","prompt":"x"}"#, "/v1/completions", 404, "The model `gpt-5` does not exist."),
        (
            #"{"model":"starling/tiny","prompt":"x","temperature":-1}"#, "/v1/completions", 400,
            "temperature must be non-negative"
        ),
        (
            #"{"model":"starling/tiny","prompt":"x","top_p":5}"#, "/v1/completions", 400,
            "top_p must be in (0, 1], got 5"
        ),
        (#"{"model":"starling/tiny","prompt":"x","top_p":0}"#, "/v1/completions", 400, "top_p must be in (0, 1]"),
        (#"{"model":"starling/tiny","prompt":"x","min_p":1.5}"#, "/v1/completions", 400, "min_p must be in [0, 1]"),
        (
            #"{"model":"starling/tiny","prompt":"x","presence_penalty":3}"#, "/v1/completions", 400,
            "presence_penalty must be in [-2, 2]"
        ),
        (
            #"{"model":"starling/tiny","messages":[{"role":"user","content":"x"}],"frequency_penalty":-2.5}"#,
            "/v1/chat/completions", 400, "frequency_penalty must be in [-2, 2]"
        ),
        (
            #"{"model":"starling/tiny","prompt":"x","repetition_penalty":0}"#, "/v1/completions", 400,
            "repetition_penalty must be greater than zero"
        ),
    ])
    func badRequestsGetOpenAIErrors(body: String, path: String, status: Int, message: String) async throws {
        try await withModelServer { client in
            let (code, json) = try await client.object(.POST, path, json: body)
            #expect(code == status)
            let error = try #require(json["error"] as? [String: Any])
            #expect((error["message"] as? String)?.contains(message) == true, "\(error)")
            #expect(error["code"] as? Int == status)
            #expect(error["type"] as? String == (status == 404 ? "NotFoundError" : "BadRequestError"))
        }
    }

    @Test func modelsHealthAndDynamicAdapters() async throws {
        try await withModelServer(edit: { $0.loraModules = [("first", "/adapters/first")] }) { client in
            #expect(try await client.send(.GET, "/health").status == 200)
            var (_, models) = try await client.object(.GET, "/v1/models")
            var ids = (models["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["starling/tiny", "first"])

            let load = try await client.send(
                .POST, "/v1/load_lora_adapter", json: #"{"lora_name":"sql","lora_path":"/a/sql"}"#)
            #expect(load.status == 200)
            let again = try await client.send(
                .POST, "/v1/load_lora_adapter", json: #"{"lora_name":"sql","lora_path":"/a/sql"}"#)
            #expect(again.status == 400 && again.body.contains("already been loaded"))
            (_, models) = try await client.object(.GET, "/v1/models")
            let sql = (models["data"] as? [[String: Any]])?.first { $0["id"] as? String == "sql" }
            #expect(sql?["parent"] as? String == "starling/tiny")
            #expect(sql?["root"] as? String == "/a/sql")

            let (status, reply) = try await client.object(
                .POST, "/v1/completions", json: #"{"model":"sql","prompt":"select","max_tokens":2,"ignore_eos":true}"#)
            #expect(status == 200 && reply["model"] as? String == "sql")

            #expect(
                try await client.send(.POST, "/v1/unload_lora_adapter", json: #"{"lora_name":"sql"}"#).status == 200)
            #expect(
                try await client.send(.POST, "/v1/unload_lora_adapter", json: #"{"lora_name":"sql"}"#).status == 404)
            (_, models) = try await client.object(.GET, "/v1/models")
            ids = (models["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["starling/tiny", "first"])
            let gone = try await client.send(.POST, "/v1/completions", json: #"{"model":"sql","prompt":"x"}"#)
            #expect(gone.status == 404)
        }
    }

    @Test func metricsUseVLLMNamesTypesAndLabels() async throws {
        try await withModelServer { client in
            _ = try await client.send(
                .POST, "/v1/completions",
                json: #"{"model":"starling/tiny","prompt":"hello there","max_tokens":3,"ignore_eos":true}"#)
            let text = try await client.send(.GET, "/metrics").body
            let expected: [(String, String)] = [
                ("vllm:num_requests_running", "gauge"), ("vllm:num_requests_waiting", "gauge"),
                ("vllm:kv_cache_usage_perc", "gauge"), ("vllm:lora_requests_info", "gauge"),
                ("vllm:prefix_cache_queries_total", "counter"), ("vllm:prefix_cache_hits_total", "counter"),
                ("vllm:num_preemptions_total", "counter"), ("vllm:prompt_tokens_total", "counter"),
                ("vllm:generation_tokens_total", "counter"), ("vllm:request_success_total", "counter"),
                ("vllm:time_to_first_token_seconds", "histogram"), ("vllm:inter_token_latency_seconds", "histogram"),
                ("vllm:e2e_request_latency_seconds", "histogram"), ("vllm:request_queue_time_seconds", "histogram"),
            ]
            for (name, type) in expected {
                #expect(text.contains("# TYPE \(name) \(type)\n"), "\(name)")
                #expect(text.contains("\n\(name){") || text.contains("\n\(name)_bucket{"), "\(name) has no sample")
            }
            for line in text.split(separator: "\n") where line.hasPrefix("vllm:") {
                #expect(line.contains("model_name=\"starling/tiny\""), "\(line)")
            }
            #expect(text.contains(#"max_lora="2",running_lora_adapters="",waiting_lora_adapters="""#))
            #expect(try await client.metric("vllm:generation_tokens_total") == 3)
            #expect(
                try await client.metric(
                    "vllm:request_success_total{engine=\"0\",model_name=\"starling/tiny\",finished_reason=\"length\"}")
                    == 1)
            #expect(try await client.metric("vllm:time_to_first_token_seconds_count") == 1)
        }
    }

    @Test func metricsNameQueryKeepsOnlyTheNamedSamplesAsPrometheusClientDoes() async throws {
        try await withModelServer { client in
            let gauges = try await client.send(
                .GET, "/metrics?name%5B%5D=vllm:num_requests_running&name%5B%5D=vllm:cache_config_info&other=1")
            let lines = gauges.body.split(separator: "\n")
            #expect(lines.count == 6, "\(gauges.body)")
            #expect(lines.first == "# HELP vllm:num_requests_running Number of requests in model execution batches.")
            #expect(
                lines.filter { !$0.hasPrefix("#") }.map { $0.prefix(while: { $0 != "{" }) } == [
                    "vllm:num_requests_running", "vllm:cache_config_info",
                ])

            // Sample names, not family names: a histogram's count without its buckets.
            let count = try await client.send(.GET, "/metrics?name[]=vllm:time_to_first_token_seconds_count").body
            #expect(count.hasPrefix("# HELP vllm:time_to_first_token_seconds "))
            #expect(count.split(separator: "\n").count == 3, "\(count)")

            #expect(try await client.send(.GET, "/metrics?name[]=vllm:no_such_metric").body == "")
            // A blank value asks for nothing in particular: everything, as with no query.
            let all = try await client.send(.GET, "/metrics?name[]=").body
            #expect(all.contains("vllm:time_to_first_token_seconds_bucket{"))
        }
    }

    @Test(arguments: [
        ("name%5B%5D=vllm%3Anum_requests_running&name[]=b", ["vllm:num_requests_running", "b"]),
        ("name[]=a+b&name[]=&name=c&name[]", ["a b"]),
        ("x=1", []),
        ("", []),
    ])
    func metricsNameQueryIsDecodedAsParseQSDecodesIt(query: String, names: [String]) {
        #expect(VLLMMetrics.requestedNames(query: query) == Set(names))
    }

    @Test(
        arguments: [
            (nil, "# HELP a A.\n# TYPE a gauge\na 1\n# HELP h H.\n# TYPE h histogram\nh_sum 2\nh_count 3\n"),
            (["h_count"], "# HELP h H.\n# TYPE h histogram\nh_count 3\n"),
            (["b"], ""),
        ] as [(Set<String>?, String)])
    func expositionWriterKeepsAFamilysHeaderOnlyWithAWantedSample(names: Set<String>?, expected: String) {
        var writer = ExpositionWriter(names: names)
        writer.family("a", "gauge", "A.")
        writer.sample("a") { " 1" }
        writer.family("h", "histogram", "H.")
        writer.sample("h_sum") { " 2" }
        writer.sample("h_count") { " 3" }
        #expect(writer.text == expected)
    }

    @Test func aRequestLargerThanTheWholeCacheIsRejectedNotLeftWaiting() async throws {
        try await withModelServer(edit: { $0.engine.numGPUBlocks = 8 }) { client in
            let (status, json) = try await client.object(
                .POST, "/v1/completions", json: #"{"model":"starling/tiny","prompt":"hi","max_tokens":500}"#)
            #expect(status == 400)
            #expect(((json["error"] as? [String: Any])?["message"] as? String)?.contains("KV-cache blocks") == true)
        }
    }

    @Test func timeScaleRunsTheClockFasterAndReportsSimulatedTime() async throws {
        try await withModelServer(timeScale: 10) { client in
            let start = ContinuousClock.now
            let body = #"{"model":"starling/tiny","prompt":"hello","max_tokens":1000,"ignore_eos":true}"#
            #expect(try await client.send(.POST, "/v1/completions", json: body).status == 200)
            let wall = (ContinuousClock.now - start).seconds
            // 1,000 steps of ~3 ms simulated take ~0.3 s of wall time; metrics report the simulated ~3 s.
            let simulated = try #require(try await client.metric("vllm:e2e_request_latency_seconds_sum"))
            #expect(simulated > 2.5, "simulated \(simulated)")
            #expect(simulated > 3 * wall, "simulated \(simulated) s vs wall \(wall) s")
        }
    }

    @Test func aBodyOverTheLimitGets413() async throws {
        try await withModelServer { client in
            let prompt = String(repeating: "x", count: ModelServer.maxBodyBytes + 1)
            let (status, json) = try await client.object(
                .POST, "/v1/completions", json: #"{"model":"starling/tiny","prompt":"\#(prompt)","max_tokens":2}"#)
            #expect(status == 413)
            let error = json["error"] as? [String: Any]
            #expect((error?["message"] as? String)?.contains("larger than") == true)
        }
    }

    @Test func nonStreamingRepliesKeepTheirConnection() async throws {
        try await withModelServer(timeScale: 1000) { client in
            for _ in 0..<3 {
                var request = HTTPClientRequest(url: client.base + "/v1/completions")
                request.method = .POST
                request.body = .bytes(
                    ByteBuffer(string: #"{"model":"starling/tiny","prompt":"hi","max_tokens":300,"ignore_eos":true}"#))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                #expect(response.status == .ok && response.headers["connection"] != ["close"], "\(response.headers)")
                _ = try await response.body.collect(upTo: 1 << 20)
            }
        }
    }

    /// vLLM aborts a non-streaming request whose client left; so does the simulator, whatever its length, within a
    /// decode step, and counts it as aborted.
    @Test(arguments: [40, 3000])
    func aClientThatLeavesANonStreamingRequestAbortsIt(maxTokens: Int) async throws {
        try await withModelServer(timeScale: maxTokens < 100 ? 0.05 : 1) { client in
            let port = try #require(URLComponents(string: client.base)?.port)
            let body = #"{"model":"starling/tiny","prompt":"hello there","max_tokens":\#(maxTokens),"ignore_eos":true}"#
            let connection = try RawConnection(port: port)
            connection.send(
                "POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                    + "content-length: \(body.utf8.count)\r\n\r\n\(body)")
            try await eventually("the request to run", timeout: .seconds(20), every: .milliseconds(10)) {
                try await client.metric("vllm:num_requests_running") == 1
            }
            connection.close()
            try await eventually("the request to be aborted", timeout: .seconds(5), every: .milliseconds(10)) {
                let running = try await client.metric("vllm:num_requests_running")
                let usage = try await client.metric("vllm:kv_cache_usage_perc")
                return running == 0 && usage == 0
            }
            let aborted = try await client.metric(
                #"vllm:request_success_total{engine="0",model_name="starling/tiny",finished_reason="abort"}"#)
            #expect(aborted == 1)
            #expect((try await client.metric("vllm:generation_tokens_total") ?? 0) < Double(maxTokens))
        }
    }

    @Test func aRepeatedPromptIsServedFromThePrefixCache() async throws {
        try await withModelServer { client in
            let prompt = String(repeating: "The same long system prompt for every request. ", count: 40)
            let body = #"{"model":"starling/tiny","prompt":"\#(prompt)","max_tokens":1}"#
            _ = try await client.send(.POST, "/v1/completions", json: body)
            let (_, second) = try await client.object(.POST, "/v1/completions", json: body)
            let details = (second["usage"] as? [String: Any])?["prompt_tokens_details"] as? [String: Any]
            #expect((details?["cached_tokens"] as? Int ?? 0) > 300)
            #expect((try await client.metric("vllm:prefix_cache_hits_total") ?? 0) > 300)
        }
    }

    @Test func aClientThatDisconnectsMidStreamFreesItsBlocks() async throws {
        try await withModelServer(timeScale: 1) { client in
            var request = HTTPClientRequest(url: client.base + "/v1/completions")
            request.method = .POST
            request.body = .bytes(
                ByteBuffer(
                    string: #"{"model":"starling/tiny","prompt":"\#(String(repeating: "word ", count: 500))","#
                        + #""max_tokens":3000,"ignore_eos":true,"stream":true}"#))
            let task = Task {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                var chunks = 0
                for try await _ in response.body {
                    chunks += 1
                    if chunks >= 3 { break }
                }
                return chunks
            }
            #expect(try await task.value == 3)
            try await eventually("the stream's blocks are freed", timeout: .seconds(20), every: .milliseconds(20)) {
                let running = try await client.metric("vllm:num_requests_running")
                let usage = try await client.metric("vllm:kv_cache_usage_perc")
                return running == 0 && usage == 0
            }
            #expect((try await client.metric("vllm:generation_tokens_total") ?? 0) < 3000)
        }
    }
}

func StarlingTokenizerCount(_ text: String) -> Int { StarlingTokenizerShim.count(text) }
