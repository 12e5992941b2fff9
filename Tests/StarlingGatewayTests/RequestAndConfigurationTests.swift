import Foundation
import NIOCore
import NIOHTTP1
import StarlingOpenAI
import StarlingServerLimits
import StarlingSimulator
import StarlingTokenizer
import Testing

@testable import StarlingGateway

@Suite struct ObjectiveTableTests {
    func table() -> ObjectiveTable {
        var table = ObjectiveTable()
        table.objectives = ["premium": .critical, "batch": .sheddable]
        table.models["sql"] = .init(
            objective: "sql", criticality: .critical,
            targets: [.init(model: "sql-v1", weight: 90), .init(model: "sql-v2", weight: 10)])
        return table
    }

    @Test func splitsTrafficByWeight() {
        var random = SeededRandom(seed: 42)
        var counts: [String: Int] = [:]
        for _ in 0..<2000 {
            counts[table().resolve(model: "sql", objective: nil, random: &random).model, default: 0] += 1
        }
        #expect(counts.keys.sorted() == ["sql-v1", "sql-v2"])
        #expect((1700...1900).contains(counts["sql-v1"] ?? 0))
    }

    @Test func criticalityFromModelRuleThenHeader() {
        var random = SeededRandom(seed: 1)
        let t = table()
        #expect(t.resolve(model: "sql", objective: nil, random: &random).criticality == .critical)
        #expect(t.resolve(model: "sql", objective: "batch", random: &random).criticality == .sheddable)
        let plain = t.resolve(model: "base", objective: "nope", random: &random)
        #expect(plain == .init(model: "base", criticality: .standard, objective: nil))
        #expect(t.resolve(model: "base", objective: "premium", random: &random).criticality == .critical)
    }
}

@Suite struct RequestBodyTests {
    @Test func findsTheTopLevelModelAndRenamesOnlyIt() throws {
        let text =
            #"{"messages":[{"role":"user","content":"{\"model\": \"inner\"}"}],"nested":{"model":"x"}, "model" : "sql\"lora","stream":true}"#
        let body = ByteBuffer(string: text)
        let parsed = try InferenceRequestBody.parse(body, kind: .chat)
        #expect(parsed.model == "sql\"lora" && parsed.stream)
        let renamed = InferenceRequestBody.renaming(body, range: parsed.modelRange, to: "sql-v2")
        let expected = text.replacingOccurrences(of: #""sql\"lora""#, with: #""sql-v2""#)
        #expect(String(buffer: renamed) == expected)
        #expect(parsed.promptText == "<|user|>\n{\"model\": \"inner\"}\n<|assistant|>\n")
    }

    @Test(arguments: [
        (#"{"prompt":"x"}"#, "Field required: model"),
        (#"{"model":3,"prompt":"x"}"#, "model must be a string, got 3"),
        (#"{"model":"","prompt":"x"}"#, "model must not be empty"),
        (#"{"model":"m","prompt":"x","stream":"yes"}"#, "stream must be a boolean, got \"yes\""),
        (#"{"model":"m"}"#, "Field required: prompt"),
        (#"[1,2]"#, "The request body must be a JSON object"),
        (#"{"model":"#, "The request body is not valid JSON"),
    ])
    func badBodiesNameTheField(_ text: String, _ message: String) {
        #expect {
            try InferenceRequestBody.parse(ByteBuffer(string: text), kind: .completion)
        } throws: { error in
            guard let error = error as? OpenAIError else { return false }
            return error.status == 400 && error.message.hasPrefix(message)
        }
    }

    @Test func tokenIDPromptsAreKept() throws {
        let parsed = try InferenceRequestBody.parse(
            ByteBuffer(string: #"{"model":"m","prompt":[5,6,7]}"#), kind: .completion)
        #expect(parsed.promptTokens == [5, 6, 7])
    }

    @Test(arguments: [
        ("Connection", true), ("content-LENGTH", true), ("TE", true), ("Transfer-Encoding", true), ("host", true),
        ("x-request-id", false), ("te-x", false), ("hostname", false), ("content-type", false), ("", false),
    ])
    func hopByHopHeadersAreRecognisedInAnyCase(name: String, dropped: Bool) {
        #expect(Upstream.isHopByHop(name) == dropped)
    }

    /// RFC 9110 section 7.6.1: what `Connection` names is hop-by-hop too, in either direction.
    @Test func headersNamedByConnectionAreNotForwarded() {
        let headers: HTTPHeaders = [
            "Connection": "keep-alive, X-Secret-Token", "connection": "Upgrade-Hint", "X-Secret-Token": "s",
            "x-keep": "k", "Keep-Alive": "timeout=5", "upgrade-hint": "h2c",
        ]
        #expect(Upstream.forwardable(headers).map { $0.name } == ["x-keep"])
        #expect(Upstream.forwardable(["x-a": "1", "connection": "close"]).map { $0.name } == ["x-a"])
    }

    @Test(arguments: [
        (#"data: {"choices":[{"text":"a"}]}"#, 1),
        (#"data: {"delta":{"content":" b"}}"#, 1),
        (#"data: {"delta":{"role":"assistant","content":""}}"#, 0),
        ("data: [DONE]\n\n", 0),
        (#"data: {"text":"","choices":[{"text":"a"}]}"#, 1),
        (#"data: {"choices":[{"text":"\""}]}"#, 1),
        (#"data: {"choices":[{"text":""#, 0),
        ("", 0),
        ("\"", 0),
        ("\"t", 0),
        (#""text":"#, 0),
        (#"{"tex":"a","contents":"b","context":"c","t":"d"}"#, 0),
        (#"{"text":"a","content":"b"}{"text":"c"}"#, 3),
        (#""text":"x"#, 1),
        ("\"" + #""content":"y"#, 1),
        (
            "1f\r\n" + #"data: {"choices":[{"text":"a"}]}"# + "\r\n1f\r\n" + #"data: {"choices":[{"text":"b"}]}"#
                + "\r\n", 2
        ),
    ])
    func tokenTimerCountsTheEventsWithText(bytes: String, events: Int) {
        #expect(TokenTimer.textEvents(in: ByteBuffer(string: bytes).readableBytesView) == events)
    }

    /// The rule, written plainly: at every quote, a marker followed by a byte other than a quote.
    static func referenceTextEvents(_ bytes: [UInt8]) -> Int {
        var count = 0
        var i = 0
        while i < bytes.count {
            let marker = TokenTimer.markers.first { marker in
                bytes.count - i > marker.count && Array(bytes[i..<i + marker.count]) == marker
                    && bytes[i + marker.count] != UInt8(ascii: "\"")
            }
            if let marker {
                count += 1
                i += marker.count + 1
            } else {
                i += 1
            }
        }
        return count
    }

    @Test func tokenTimerCountsTextEventsAsThePlainRuleDoes() {
        #expect(
            TokenTimer.markers == [TokenTimer.textMarker, TokenTimer.contentMarker].map { Array($0.description.utf8) })
        // Strings of the pieces markers are made of, so that near misses and back-to-back markers are common.
        let pieces = ["\"", "text", "content", ":", "\":\"", "a", " ", "\"text\":\"", "\"content\":\"", "\\"]
        var generator = SeededRandom(seed: 7)
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...24, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }.joined()
            let bytes = Array(text.utf8)
            #expect(
                TokenTimer.textEvents(in: ByteBuffer(bytes: bytes).readableBytesView)
                    == Self.referenceTextEvents(bytes),
                "\(text.debugDescription)")
        }
    }

    @Test func tokenTimerCountsEveryEventHoweverTheBytesAreCut() {
        let stream =
            #"data: {"choices":[{"text":"a"}]}"# + "\n\n" + #"data: {"delta":{"role":"assistant","content":""}}"#
            + #"data: {"delta":{"content":"b"}}"# + #"data: {"choices":[{"text":"\""}]}"#
        let bytes = Array(stream.utf8)
        for first in 0...bytes.count {
            for second in first...min(bytes.count, first + 13) {
                var timer = TokenTimer(start: .now)
                for piece in [bytes[..<first], bytes[first..<second], bytes[second...]] {
                    timer.observe(ByteBuffer(bytes: piece))
                }
                #expect(timer.firstToken != nil && timer.gaps.count == 2, "cut at \(first) and \(second)")
            }
        }
    }
}

@Suite struct GatewayConfigurationTests {
    static let full = """
        apiVersion: starling.dev/v1alpha1
        kind: Gateway
        spec:
          listen: 0.0.0.0:9000
          scrapeInterval: 25ms
          upstreamTimeout: 2m
          maxRetries: 1
          eventLoops: 2
          limits: {headerTimeout: 5s, bodyTimeout: 30s, idleTimeout: 1m, maxConnections: 500, maxBufferedBodyBytes: 1048576, listenBacklog: 128}
          pools:
          - name: llama
            endpoints: [http://127.0.0.1:8001/, "127.0.0.1:8002"]
            policy: mine
            profiles:
              mine:
                filters: [{type: least-queue, slack: 4}]
                scorers: [{type: prefix, weight: 3}, {type: queue, weight: 2}]
                picker: power-of-two
            saturation: {queueDepth: 8, kvCache: 0.9}
            queue: {critical: 10, standard: 5, timeout: 3s}
            noEndpointWait: 500ms
        ---
        apiVersion: inference.networking.k8s.io/v1
        kind: InferencePool
        metadata: {name: other}
        spec:
          targetPorts: [{number: 8000}]
          selector: {matchLabels: {app: other}}
          endpointPickerRef: {name: starling}
        ---
        apiVersion: inference.networking.x-k8s.io/v1alpha2
        kind: InferenceObjective
        metadata: {name: sql}
        spec:
          modelName: sql
          criticality: Critical
          poolRef: {name: llama}
          targetModels: [{name: sql-v1, weight: 90}, {name: sql-v2, weight: 10}]
        ---
        apiVersion: inference.networking.x-k8s.io/v1alpha2
        kind: InferenceObjective
        metadata: {name: batch}
        spec: {priority: -1, poolRef: {name: llama}}
        ---
        apiVersion: inference.networking.x-k8s.io/v1alpha2
        kind: InferenceModelRewrite
        metadata: {name: alias}
        spec:
          poolRef: {name: llama}
          rules:
          - matches: [{model: {type: Exact, value: small}}]
            targets: [{modelRewrite: small-v1}]
        """

    @Test func readsEveryDocumentKind() throws {
        let configuration = try GatewayConfiguration.parse(Self.full, source: "gw.yaml")
        #expect(configuration.host == "0.0.0.0" && configuration.port == 9000)
        #expect(configuration.scrapeInterval == .milliseconds(25) && configuration.upstreamTimeout == .seconds(120))
        #expect(configuration.eventLoops == 2)
        #expect(
            configuration.limits
                == ConnectionLimits(
                    headerTimeout: .seconds(5), bodyTimeout: .seconds(30), idleTimeout: .seconds(60),
                    maxConnections: 500,
                    maxBufferedBodyBytes: 1 << 20, listenBacklog: 128))
        #expect(configuration.pools.map(\.settings.name) == ["llama", "other"])
        let llama = configuration.pools[0]
        #expect(llama.endpoints.map(\.id) == ["127.0.0.1:8001", "127.0.0.1:8002"])
        #expect(llama.settings.profile.name == "mine" && llama.settings.profile.picker is PowerOfTwoPicker)
        #expect(llama.settings.profile.usesPrefix && llama.settings.profile.filters.count == 1)
        #expect(llama.settings.saturation == SaturationDetector(queueDepthThreshold: 8, kvCacheThreshold: 0.9))
        #expect(llama.settings.admission.queueLimits[.standard] == 5 && llama.settings.queueTimeout == .seconds(3))
        #expect(llama.settings.noEndpointWait == .milliseconds(500))
        #expect(configuration.objectives.objectives == ["sql": .critical, "batch": .sheddable])
        #expect(configuration.objectives.models["sql"]?.targets.count == 2)
        #expect(configuration.objectives.models["small"]?.targets == [.init(model: "small-v1", weight: 1)])
    }

    @Test func defaultPolicyWeightsComeFromTheFile() throws {
        let text = """
            kind: Gateway
            spec:
              pools:
              - name: a
                policy: default
                weights: {prefillLoad: 5, prefix: 0, queue: 2}
            """
        let profile = try GatewayConfiguration.parse(text, source: "gw.yaml").pools[0].settings.profile
        let weights = Dictionary(profile.scorers.map { ($0.scorer.name, $0.weight) }, uniquingKeysWith: +)
        #expect(weights == ["prefill-load": 5, "prefix": 0, "queue": 2, "kv-cache": 1, "lora": 1, "session": 4])
        #expect(profile.usesPrefix, "prefill-load reads prompt lengths and prefix matches")
    }

    @Test(arguments: [
        (
            "kind: Gateway\nspec: {pools: [{name: a, policy: fastest}]}",
            "gw.yaml#1: spec.pools[0].policy: Unsupported value: \"fastest\""
        ),
        (
            "kind: Gateway\nspec: {pools: [{name: a, endpoints: [ftp://x]}]}",
            "spec.pools[0].endpoints[0]: Invalid value: endpoint \"ftp://x\": only http:// URLs are supported"
        ),
        (
            "kind: Gateway\nspec: {scrapeInterval: soon, pools: [{name: a}]}",
            "spec.scrapeInterval: Invalid value: \"soon\""
        ),
        ("kind: Gateway\nspec: {eventLoops: 0, pools: [{name: a}]}", "spec.eventLoops: must be 1-256, got 0"),
        (
            "kind: Gateway\nspec: {limits: {maxConnections: 0}, pools: [{name: a}]}",
            "spec.limits.maxConnections: must be at least 1, got 0"
        ),
        (
            "kind: Gateway\nspec: {limits: {headerTimeout: 0s}, pools: [{name: a}]}",
            "spec.limits.headerTimeout: must be positive"
        ),
        (
            "kind: Gateway\nspec: {limits: {readTimeout: 1s}, pools: [{name: a}]}",
            "spec.limits.readTimeout: unknown field"
        ),
        (
            "kind: Gateway\nspec: {pools: [{name: a, saturation: {kvCache: 2}}]}",
            "spec.pools[0].saturation.kvCache: must be in (0, 1], got 2"
        ),
        (
            "kind: Gateway\nspec: {pools: [{name: a, profiles: {p: {scorers: [{type: speed}]}}, policy: p}]}",
            "spec.pools[0].profiles.p.scorers[0].type: Unsupported value: \"speed\""
        ),
        ("kind: Gateway\nspec: {pools: [{name: a}, {name: a}]}", "spec.pools[1].name: Duplicate value: \"a\""),
        ("kind: Gateway\nspec: {pools: [{name: a, colour: red}]}", "spec.pools[0].colour: unknown field"),
        (
            "kind: Gateway\nspec: {pools: [{name: a, weights: {speed: 1}}]}",
            "spec.pools[0].weights.speed: unknown field"
        ),
        (
            "kind: Gateway\nspec: {pools: [{name: a, weights: {prefix: -1}}]}",
            "spec.pools[0].weights.prefix: must be at least 0, got -1.0"
        ),
        (
            "kind: InferenceObjective\nmetadata: {name: o}\nspec: {criticality: Urgent}",
            "spec.criticality: Unsupported value: \"Urgent\""
        ),
        ("kind: Service\n", "kind: Unsupported value: \"Service\""),
        ("kind: InferenceObjective\nmetadata: {name: o}\nspec: {priority: 1}", "no pool"),
    ])
    func errorsNameTheField(_ text: String, _ message: String) {
        #expect {
            try GatewayConfiguration.parse(text, source: "gw.yaml")
        } throws: { error in
            guard let error = error as? GatewayConfigurationError else { return false }
            if !error.message.contains(message) { print("got: \(error.message)") }
            return error.message.contains(message)
        }
    }

    @Test(arguments: [
        ("http://127.0.0.1:8000", "127.0.0.1:8000"), ("http://localhost/", "localhost:80"),
        ("10.0.0.1:9", "10.0.0.1:9"),
        ("http://[::1]:8000", "[::1]:8000"),
    ])
    func endpointAddresses(_ text: String, _ id: String) throws {
        #expect(try EndpointAddress(parsing: text).id == id)
    }

    @Test(arguments: ["https://x:1", "http://x:1/v1", "http://x:99999", "http://x:port", ""])
    func badEndpointAddresses(_ text: String) {
        #expect(throws: GatewayConfigurationError.self) { try EndpointAddress(parsing: text) }
    }

    @Test func durations() {
        #expect(DurationText.parse("50ms") == .milliseconds(50))
        #expect(DurationText.parse("1.5m") == .seconds(90))
        #expect(DurationText.parse("2") == .seconds(2))
        #expect(DurationText.parse("2 weeks") == nil)
    }
}
