import Foundation

extension BenchConfiguration {
    /// The flag that sets each field, named next to the field in errors.
    static let flags: [String: String] = [
        "target.url": "--url", "target.api": "--api", "target.models": "--model", "target.timeout": "--timeout",
        "load.stages": "--stage", "load.rate": "--rate", "load.concurrency": "--concurrency",
        "load.duration": "--duration", "load.sweep": "--sweep", "load.warmup": "--warmup",
        "load.arrivals": "--arrivals", "data.input": "--input-len", "data.output": "--output-len",
        "data.sharedPrefix": "--shared-prefix", "data.multiTurn": "--multi-turn", "data.dataset": "--dataset",
        "data.lora": "--lora", "slo.ttftMs": "--slo-ttft-ms", "slo.tpotMs": "--slo-tpot-ms",
    ]

    /// Every problem with the configuration, each naming its field (and the flag that sets it).
    public func problems() -> [String] {
        var problems: [String] = []
        func add(_ path: String, _ message: String) {
            let key = Self.flags.keys.filter { path.hasPrefix($0) }.max { $0.count < $1.count }
            problems.append(key.map { "\(path) (\(Self.flags[$0]!)): \(message)" } ?? "\(path): \(message)")
        }
        if target.baseURL.isEmpty {
            add("target.url", "Required value: the base URL of an OpenAI-compatible endpoint")
        } else if let url = URL(string: target.baseURL), url.scheme == "http" || url.scheme == "https",
            url.host != nil
        {
        } else {
            add("target.url", "\"\(target.baseURL)\" is not an http(s) URL")
        }
        if !(target.timeout > 0) { add("target.timeout", "must be positive, got \(target.timeout)") }
        for (i, header) in target.headers.enumerated() where header.0.isEmpty {
            add("target.headers[\(i)]", "header name must not be empty")
        }

        if !(load.warmup >= 0) { add("load.warmup", "must not be negative, got \(load.warmup)") }
        switch load.mode {
        case nil:
            add("load", "Required value: give stages, rate, concurrency or sweep")
        case .stages(let stages):
            if stages.isEmpty { add("load.stages", "must list at least one stage") }
            for (i, stage) in stages.enumerated() {
                // A later stage may be a pause (rate 0): arrivals stop while earlier requests and session turns finish.
                if i == 0 && !(stage.rate > 0) {
                    add("load.stages[0].rate", "must be positive, got \(stage.rate)")
                } else if !(stage.rate >= 0) {
                    add("load.stages[\(i)].rate", "must be positive or 0 (a pause), got \(stage.rate)")
                }
                if !(stage.duration > 0) {
                    add("load.stages[\(i)].duration", "must be positive, got \(stage.duration)")
                }
            }
        case .concurrency(let n, let duration):
            if n < 1 { add("load.concurrency", "must be at least 1, got \(n)") }
            if !(duration > 0) { add("load.duration", "must be positive, got \(duration)") }
        case .sweep(let sweep):
            if sweep.probeConcurrency < 1 {
                add("load.sweep.probeConcurrency", "must be at least 1, got \(sweep.probeConcurrency)")
            }
            if !(sweep.probeDuration > 0) {
                add("load.sweep.probeDuration", "must be positive, got \(sweep.probeDuration)")
            }
            if !(sweep.stageDuration > 0) {
                add("load.sweep.stageDuration", "must be positive, got \(sweep.stageDuration)")
            }
            if sweep.fractions.isEmpty { add("load.sweep.fractions", "must list at least one fraction") }
            for (i, f) in sweep.fractions.enumerated() where !(f > 0 && f <= 10) {
                add("load.sweep.fractions[\(i)]", "must be in (0, 10], got \(f)")
            }
        }

        for problem in data.input.validate(path: "data.input") { problems.append(problem) }
        for problem in data.output?.validate(path: "data.output") ?? [] { problems.append(problem) }
        if let prefix = data.sharedPrefix {
            for (name, value) in [
                ("groups", prefix.groups), ("prefixLength", prefix.prefixLength),
                ("questionLength", prefix.questionLength), ("questionsPerGroup", prefix.questionsPerGroup),
            ] where value < 1 {
                add("data.sharedPrefix.\(name)", "must be at least 1, got \(value)")
            }
            if data.multiTurn != nil { add("data.sharedPrefix", "cannot be combined with data.multiTurn") }
            if data.dataset != nil { add("data.sharedPrefix", "cannot be combined with data.dataset") }
        }
        if let multiTurn = data.multiTurn {
            if multiTurn.sessions < 1 {
                add("data.multiTurn.sessions", "must be at least 1, got \(multiTurn.sessions)")
            }
            if multiTurn.turns < 1 { add("data.multiTurn.turns", "must be at least 1, got \(multiTurn.turns)") }
            if target.api != .chat {
                add("data.multiTurn", "sessions resend chat history: needs target.api chat (--api chat)")
            }
        }
        if let dataset = data.dataset, dataset.isEmpty { add("data.dataset", "must name a file") }
        for (i, model) in data.lora.enumerated() {
            if model.name.isEmpty { add("data.lora[\(i)].name", "Required value") }
            if !(model.weight > 0 && model.weight.isFinite) {
                add("data.lora[\(i)].weight", "must be a positive number, got \(model.weight)")
            }
        }
        if let slo {
            if let v = slo.timeToFirstToken, !(v > 0) { add("slo.ttftMs", "must be positive, got \(v * 1000)") }
            if let v = slo.timePerOutputToken, !(v > 0) { add("slo.tpotMs", "must be positive, got \(v * 1000)") }
        }
        return problems
    }

    /// Throws every problem at once.
    public func validate() throws(BenchConfigurationError) {
        let problems = problems()
        guard problems.isEmpty else { throw BenchConfigurationError(problems.joined(separator: "\n")) }
    }
}
