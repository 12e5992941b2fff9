import Foundation
import StarlingBench
import Testing

@testable import StarlingCLI

@Suite struct BenchCommandTests {
    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func flagsOverrideTheConfigurationFile() throws {
        let path = try file(
            """
            target: {url: http://a:1, api: chat, models: [x]}
            load: {concurrency: 8, duration: 10, warmup: 2}
            data: {input: 100, output: 50, multiTurn: {sessions: 4}}
            slo: {ttftMs: 100, tpotMs: 20}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let command = try BenchRunCommand.parse([
            "--config", path, "--url", "http://b:2/", "--duration", "5", "--output-len", "uniform:5,9",
            "--slo-ttft-ms", "300", "--lora", "x=1", "--lora", "y=2", "--no-stream", "--html", "r.html",
            "--endpoint-header", "x-starling-endpoint",
        ])
        let c = try command.merged()
        #expect(c.target.baseURL == "http://b:2" && c.target.api == .chat && !c.target.stream)
        #expect(c.load.mode == .concurrency(8, duration: 5) && c.load.warmup == 2)
        #expect(c.data.input == .fixed(100) && c.data.output == .uniform(min: 5, max: 9))
        #expect(c.data.multiTurn == .init(sessions: 4, turns: 4))
        #expect(c.data.lora == [WeightedModel(name: "x", weight: 1), WeightedModel(name: "y", weight: 2)])
        #expect(c.slo == ServiceLevelObjective(timeToFirstToken: 0.3, timePerOutputToken: 0.02))
        #expect(c.output.html == "r.html" && c.target.endpointHeader == "x-starling-endpoint")

        // A load-mode flag replaces the file's mode.
        let swept = try BenchRunCommand.parse(["--config", path, "--sweep", "0.5,1", "--sweep-probe-duration", "8"])
            .merged()
        guard case .sweep(let sweep)? = swept.load.mode else {
            Issue.record("expected a sweep, got \(String(describing: swept.load.mode))")
            return
        }
        #expect(sweep.fractions == [0.5, 1] && sweep.probeDuration == 8 && sweep.probeConcurrency == 256)
    }

    @Test(arguments: [
        (["--rate", "1", "--concurrency", "2"], "--concurrency cannot be combined with --rate"),
        (["--stage", "5:10", "--duration", "3"], "--duration does not apply to --stage"),
        (["--stage", "five"], #"--stage[0]: "five" is not RATE:DURATION"#),
        (["--rate", "0"], "load.stages[0].rate (--stage): must be positive, got 0"),
        (["--rate", "1", "--api", "grpc"], #"--api: "grpc" is not one of completions, chat"#),
        (["--rate", "1", "--input-len", "uniform:1"], #"--input-len: "uniform:1" is not uniform:MIN,MAX"#),
        (["--rate", "1", "--lora", "a=-1"], #"--lora: weight of "a" must be a positive number, got "-1""#),
        (["--rate", "1", "--header", "novalue"], #"--header: "novalue" is not NAME:VALUE"#),
        (["--rate", "1", "--multi-turn", "3"], "data.multiTurn (--multi-turn): sessions resend chat history"),
        (
            ["--rate", "1", "--sweep-probe-duration", "3"],
            "--sweep-probe-concurrency and --sweep-probe-duration need a sweep"
        ),
        (["--sweep", "half"], #"--sweep: "half" is not a list of fractions"#),
        (["--duration", "3"], "--duration: needs --rate, --concurrency, --sweep or one configured stage"),
    ])
    func badFlagsNameTheFlag(arguments: [String], message: String) throws {
        let command = try BenchRunCommand.parse(["--url", "http://h:1"] + arguments)
        #expect {
            _ = try command.merged()
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func missingConfigFileIsNamed() throws {
        let command = try BenchRunCommand.parse(["--config", "/nonexistent/bench.yaml"])
        #expect {
            _ = try command.merged()
        } throws: { error in
            "\(error)".contains("/nonexistent/bench.yaml: cannot read")
        }
    }
}

@Suite struct ClientCommandTests {
    @Test(arguments: [["pods", "-A"], ["pods", "--all-namespaces"]])
    func getTakesKubectlsAllNamespacesFlag(_ arguments: [String]) throws {
        let command = try GetCommand.parse(arguments)
        #expect(command.allNamespaces)
    }
}
