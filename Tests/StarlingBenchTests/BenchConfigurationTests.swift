import Foundation
import Testing

@testable import StarlingBench

@Suite struct BenchConfigurationTests {
    @Test func everyFieldIsRead() throws {
        let yaml = """
            target:
              url: http://127.0.0.1:8000/
              api: chat
              stream: false
              models: [llama]
              headers: {x-starling-objective: critical}
              timeout: 60
              endpointHeader: x-starling-endpoint
            load:
              arrivals: constant
              warmup: 5
              stages:
                - {rate: 2, duration: 10}
                - {rate: 4.5, duration: 20}
            data:
              input: uniform:10,20
              output: 64
              multiTurn: {sessions: 8, turns: 3}
              lora:
                - {name: sql-lora, weight: 3}
                - {name: llama}
            slo: {ttftMs: 250, tpotMs: 30}
            seed: 42
            output: {json: r.json, html: r.html}
            """
        let c = try BenchConfiguration.parse(yaml, source: "bench.yaml")
        #expect(c.target.baseURL == "http://127.0.0.1:8000")
        #expect(c.target.api == .chat && !c.target.stream && c.target.models == ["llama"])
        #expect(c.target.headers.map { "\($0.0)=\($0.1)" } == ["x-starling-objective=critical"])
        #expect(c.target.timeout == 60 && c.target.endpointHeader == "x-starling-endpoint")
        #expect(c.load.arrivals == .constant && c.load.warmup == 5)
        #expect(c.load.mode == .stages([LoadStage(rate: 2, duration: 10), LoadStage(rate: 4.5, duration: 20)]))
        #expect(c.data.input == .uniform(min: 10, max: 20) && c.data.output == .fixed(64))
        #expect(c.data.multiTurn == .init(sessions: 8, turns: 3))
        #expect(c.data.lora == [WeightedModel(name: "sql-lora", weight: 3), WeightedModel(name: "llama", weight: 1)])
        #expect(c.slo == ServiceLevelObjective(timeToFirstToken: 0.25, timePerOutputToken: 0.03))
        #expect(c.seed == 42 && c.output.json == "r.json" && c.output.html == "r.html")
        #expect(c.problems().isEmpty)
    }

    @Test func shippedExampleIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var c = try BenchConfiguration.load(path: root.appendingPathComponent("examples/bench-sweep.yaml").path)
        c.target.baseURL = "http://127.0.0.1:8000"
        #expect(c.problems().isEmpty, "\(c.problems())")
        guard case .sweep(let sweep)? = c.load.mode else {
            Issue.record("the example is a sweep")
            return
        }
        #expect(sweep.fractions == [0.25, 0.5, 0.75, 0.9, 1.0])
    }

    @Test(arguments: [
        ("load: {concurrency: 16, duration: 10}", BenchConfiguration.Mode.concurrency(16, duration: 10)),
        ("load: {rate: 3}", .stages([LoadStage(rate: 3, duration: 30)])),
        (
            "load: {sweep: {probeConcurrency: 8, probeDuration: 4, fractions: [0.5, 1], stageDuration: 2}}",
            .sweep(
                {
                    var s = BenchConfiguration.Sweep()
                    s.probeConcurrency = 8
                    s.probeDuration = 4
                    s.fractions = [0.5, 1]
                    s.stageDuration = 2
                    return s
                }())
        ),
    ])
    func loadModes(yaml: String, mode: BenchConfiguration.Mode) throws {
        let c = try BenchConfiguration.parse("target: {url: http://h:1}\n" + yaml, source: "b.yaml")
        #expect(c.load.mode == mode)
        #expect(c.problems().isEmpty)
    }

    /// Each bad file is refused with a message naming the field (and, for values, the flag that sets it).
    @Test(arguments: [
        ("target: {url: http://h:1, apii: chat}", "b.yaml: target.apii: unknown field"),
        ("target: {url: http://h:1}\nlaod: {rate: 1}", "b.yaml: laod: unknown field"),
        ("target: {url: http://h:1, api: grpc}", #"target.api: Unsupported value: "grpc""#),
        ("target: {url: http://h:1, stream: yes please}", "target.stream: Invalid value: expected boolean, got string"),
        ("target: {url: http://h:1, models: [1]}", "target.models[0]: Invalid value: expected a model name"),
        (
            "load: {stages: [{rate: fast, duration: 3}]}",
            "load.stages[0].rate: Invalid value: expected number, got string"
        ),
        ("load: {stages: [{rate: 1}]}", "load.stages[0].duration: Required value"),
        ("load: {stages: [{rate: 1, duration: 2, ramp: 1}]}", "load.stages[0].ramp: unknown field"),
        ("load: {arrivals: bursty, rate: 1}", #"load.arrivals: Unsupported value: "bursty""#),
        ("load: {rate: 1, concurrency: 2}", "load.concurrency: cannot be combined with load.rate"),
        (
            "load: {stages: [{rate: 1, duration: 1}], duration: 5}",
            "load.duration: only applies with rate or concurrency"
        ),
        ("load: {sweep: {fractions: [half]}}", "load.sweep.fractions[0]: Invalid value: expected number, got string"),
        ("data: {input: gaussian:1,2}", #"data.input: unknown distribution "gaussian""#),
        (#"data: {output: "uniform:9,3"}"#, "data.output.max: must be at least min (9), got 3"),
        ("data: {sharedPrefix: {groups: 2, prefixLength: 10}}", "data.sharedPrefix.questionLength: Required value"),
        ("data: {multiTurn: {turns: 2}}", "data.multiTurn.sessions: Required value"),
        ("data: {lora: [{weight: 2}]}", "data.lora[0].name: Required value"),
        ("slo: {ttft: 200}", "slo.ttft: unknown field"),
        ("seed: -1", "seed: Invalid value: -1: must not be negative"),
        ("target: [1, 2]", "target: Invalid value: expected object, got array"),
        ("target: {url: \"http://h:1\"\n  bad: [", "b.yaml: cannot parse YAML or JSON"),
        ("a: 1\n---\nb: 2", "b.yaml: expected one configuration document, found 2"),
    ])
    func badFilesNameTheField(yaml: String, message: String) {
        #expect {
            _ = try BenchConfiguration.parse(yaml, source: "b.yaml")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test(arguments: [
        ("load: {rate: 1}", "target.url (--url): Required value"),
        ("target: {url: ftp://h}\nload: {rate: 1}", #"target.url (--url): "ftp://h" is not an http(s) URL"#),
        ("target: {url: http://h:1}", "load: Required value: give stages, rate, concurrency or sweep"),
        (
            "target: {url: http://h:1}\nload: {concurrency: 0}",
            "load.concurrency (--concurrency): must be at least 1, got 0"
        ),
        (
            "target: {url: http://h:1}\nload: {stages: [{rate: 0, duration: 1}]}",
            "load.stages[0].rate (--stage): must be positive, got 0"
        ),
        (
            "target: {url: http://h:1}\nload: {stages: [{rate: 1, duration: 1}, {rate: -1, duration: 1}]}",
            "load.stages[1].rate (--stage): must be positive or 0 (a pause), got -1"
        ),
        (
            "target: {url: http://h:1}\nload: {sweep: {fractions: []}}",
            "load.sweep.fractions (--sweep): must list at least one fraction"
        ),
        (
            "target: {url: http://h:1, timeout: 0}\nload: {rate: 1}",
            "target.timeout (--timeout): must be positive, got 0"
        ),
        (
            "target: {url: http://h:1}\nload: {rate: 1}\ndata: {multiTurn: {sessions: 2}}",
            "data.multiTurn (--multi-turn): sessions resend chat history: needs target.api chat"
        ),
        (
            "target: {url: http://h:1}\nload: {rate: 1}\ndata: {sharedPrefix: {groups: 0, prefixLength: 1, questionLength: 1, questionsPerGroup: 1}}",
            "data.sharedPrefix.groups (--shared-prefix): must be at least 1, got 0"
        ),
        (
            "target: {url: http://h:1}\nload: {rate: 1}\ndata: {lora: [{name: a, weight: -1}]}",
            "data.lora[0].weight (--lora): must be a positive number, got -1"
        ),
        ("target: {url: http://h:1}\nload: {rate: 1, warmup: -2}", "load.warmup (--warmup): must not be negative"),
        (
            "target: {url: http://h:1}\nload: {rate: 1}\nslo: {ttftMs: 0}",
            "slo.ttftMs (--slo-ttft-ms): must be positive"
        ),
    ])
    func invalidValuesNameFieldAndFlag(yaml: String, message: String) throws {
        let c = try BenchConfiguration.parse(yaml, source: "b.yaml")
        #expect(c.problems().contains { $0.contains(message) }, "\(c.problems())")
        #expect(throws: BenchConfigurationError.self) { try c.validate() }
    }
}
