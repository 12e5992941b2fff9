import AsyncHTTPClient
import Foundation
import NIOCore

/// One whole run from a configuration: resolves the model, builds the requests, runs warm-up and the load mode
/// (stages, closed loop or saturation sweep) and returns the report.
public struct Benchmark: Sendable {
    public var configuration: BenchConfiguration
    public var client: HTTPClient

    /// - Parameter client: see `BenchRunner.makeClient()`.
    public init(configuration: BenchConfiguration, client: HTTPClient) {
        self.configuration = configuration
        self.client = client
    }

    /// Seconds of load the run will take (warm-up included), for a progress bar.
    public var plannedDuration: Double {
        let load = configuration.load
        switch load.mode {
        case .stages(let stages)?: return load.warmup + stages.reduce(0) { $0 + $1.duration }
        case .concurrency(_, let duration)?: return load.warmup + duration
        case .sweep(let sweep)?:
            return load.warmup + sweep.probeDuration + Double(sweep.fractions.count) * sweep.stageDuration
        case nil: return load.warmup
        }
    }

    /// Validates, runs and reports. `log` gets one line per phase.
    public func run(
        progress: BenchRunner.Progress = BenchRunner.Progress(), log: @Sendable (String) -> Void = { _ in }
    ) async throws(BenchConfigurationError) -> BenchReport {
        try configuration.validate()
        var target = configuration.target
        let data = configuration.data
        if !data.lora.isEmpty { target.models = data.lora.map(\.name) }
        if target.models.isEmpty { target.models = [try await firstModel()] }
        let source = try promptSource(models: target.models)
        let runner = BenchRunner(target: target, client: client)
        let load = configuration.load
        let seed = configuration.seed

        switch load.mode {
        case .concurrency(let concurrency, let duration)?:
            log("closed loop: \(concurrency) in flight for \(Self.seconds(duration)) to \(target.baseURL)")
            let all = await runner.run(
                concurrency: concurrency, duration: load.warmup + duration, items: source.items(count: 100_000),
                progress: progress)
            let records = Self.shift(all.filter { $0.timing.sent >= load.warmup }, by: load.warmup)
            return report(
                target, mode: "concurrency \(concurrency)", stages: [.init(start: 0, duration: duration)],
                records: records, stopped: progress.isStopping)
        case .stages(let stages)?:
            return await openLoop(runner, source: source, stages: stages, log: log, progress: progress) { plans, rs in
                report(
                    target, mode: "open loop, \(load.arrivals.rawValue) arrivals", stages: plans, records: rs,
                    stopped: progress.isStopping)
            }
        case .sweep(let sweep)?:
            log(
                "sweep probe: \(sweep.probeConcurrency) in flight for \(Self.seconds(load.warmup + sweep.probeDuration))"
                    + " to find the saturation rate")
            let probeSource = PromptSource(
                kind: source.kind, output: source.output, models: source.models, seed: seed &+ 0x5EED)
            let probeEnd = load.warmup + sweep.probeDuration
            let probe = await runner.run(
                concurrency: sweep.probeConcurrency, duration: probeEnd, items: probeSource.items(count: 100_000),
                progress: progress)
            if progress.isStopping {
                return report(
                    target, mode: "sweep probe, interrupted", stages: [.init(start: 0, duration: probeEnd)],
                    records: probe, stopped: true)
            }
            let windowStart = load.warmup + sweep.probeDuration / 2
            let completed = probe.filter { record in
                record.succeeded && (record.timing.end.map { $0 >= windowStart && $0 <= probeEnd } ?? false)
            }
            guard !completed.isEmpty else {
                let failed = probe.filter { !$0.succeeded }.count
                throw BenchConfigurationError(
                    "load.sweep: the probe completed no request in its second half (\(probe.count) sent, \(failed) "
                        + "failed); lengthen load.sweep.probeDuration or check the target")
            }
            let saturation = Double(completed.count) / (sweep.probeDuration / 2)
            log(String(format: "saturation: %.2f requests/s", saturation))
            let probeSummary = StageSummary(
                stage: nil, duration: sweep.probeDuration / 2,
                records: probe.filter { $0.timing.sent >= windowStart && $0.timing.sent <= probeEnd },
                slo: configuration.slo, start: windowStart)
            let stages = sweep.fractions.map { LoadStage(rate: $0 * saturation, duration: sweep.stageDuration) }
            var swept = configuration
            swept.load.warmup = 0
            return await Benchmark(configuration: swept, client: client).openLoop(
                runner, source: source, stages: stages, log: log, progress: progress
            ) { plans, records in
                var result = report(
                    target, mode: "sweep, \(load.arrivals.rawValue) arrivals", stages: plans, records: records,
                    stopped: progress.isStopping)
                result.sweep = BenchReport.Sweep(
                    saturationRate: saturation, fractions: sweep.fractions, probe: probeSummary)
                return result
            }
        case nil:
            throw BenchConfigurationError("load: Required value")
        }
    }

    /// Open-loop stages after an optional warm-up stage at the first stage's rate.
    func openLoop(
        _ runner: BenchRunner, source: PromptSource, stages: [LoadStage], log: (String) -> Void,
        progress: BenchRunner.Progress, report: ([BenchReport.StagePlan], [RequestRecord]) -> BenchReport
    ) async -> BenchReport {
        let warmup = configuration.load.warmup
        let warmupStages = warmup > 0 ? [LoadStage(rate: stages[0].rate, duration: warmup)] : []
        let schedule = ArrivalSchedule(
            stages: warmupStages + stages, process: configuration.load.arrivals, seed: configuration.seed)
        log(
            "open loop: \(schedule.arrivals.count) requests over \(Self.seconds(schedule.totalDuration)) to "
                + runner.target.baseURL)
        let items = source.items(count: schedule.arrivals.count)
        let startedAt = Date().timeIntervalSince1970
        let all = await runner.run(schedule: schedule, items: items, progress: progress)
        let skip = warmupStages.count
        let records = Self.shift(all.filter { $0.stage >= skip }, by: warmup).map { record in
            var shifted = record
            shifted.stage -= skip
            return shifted
        }
        let plans = stages.enumerated().map { i, stage in
            BenchReport.StagePlan(
                start: schedule.stageStarts[i + skip] - warmup, duration: stage.duration, targetRate: stage.rate)
        }
        var result = report(plans, records)
        result.startedAt = startedAt + warmup
        return result
    }

    /// The report of `records`. A stopped run's stages end where its last request did, and stages it never
    /// reached are left out, so rates cover the time that ran.
    func report(
        _ target: BenchTarget, mode: String, stages: [BenchReport.StagePlan], records: [RequestRecord],
        stopped: Bool = false
    ) -> BenchReport {
        var plans = stages
        if stopped {
            let ran = records.map { $0.timing.end ?? $0.timing.sent }.max() ?? 0
            plans = stages.filter { $0.start < ran || $0.start == 0 }.map { plan in
                var cut = plan
                cut.duration = max(min(plan.duration, ran - plan.start), 0.001)
                return cut
            }
        }
        var result = BenchReport(
            target: target, mode: mode, workload: workload, seed: configuration.seed, slo: configuration.slo,
            stages: plans, records: records)
        if stopped { result.interrupted = true }
        return result
    }

    /// The request source the data section describes.
    func promptSource(models: [String]) throws(BenchConfigurationError) -> PromptSource {
        let data = configuration.data
        let mix = data.lora.isEmpty ? models.map { WeightedModel(name: $0) } : data.lora
        let kind: PromptSource.Kind
        if let path = data.dataset {
            kind = .dataset(try ConversationDataset.load(path: path), sessions: data.multiTurn?.sessions)
        } else if let multiTurn = data.multiTurn {
            kind = .multiTurn(sessions: multiTurn.sessions, turns: multiTurn.turns, input: data.input)
        } else if let prefix = data.sharedPrefix {
            kind = .sharedPrefix(
                groups: prefix.groups, prefixLength: prefix.prefixLength, questionLength: prefix.questionLength,
                questionsPerGroup: prefix.questionsPerGroup)
        } else {
            kind = .synthetic(input: data.input)
        }
        return PromptSource(kind: kind, output: data.output, models: mix, seed: configuration.seed)
    }

    /// The data section in words, for reports.
    var workload: String {
        let data = configuration.data
        let output = data.output?.text ?? (data.dataset != nil ? "dataset replies" : PromptSource.defaultOutput.text)
        var parts: [String] = []
        if let dataset = data.dataset {
            parts.append("dataset \((dataset as NSString).lastPathComponent)")
        } else if let prefix = data.sharedPrefix {
            parts.append(
                "shared prefix: \(prefix.groups) groups × \(prefix.questionsPerGroup) questions, prefix "
                    + "\(prefix.prefixLength), question \(prefix.questionLength)")
        } else {
            parts.append("input \(data.input.text)")
        }
        if let multiTurn = data.multiTurn {
            parts.append(
                "multi-turn: \(multiTurn.sessions) sessions"
                    + (data.dataset == nil ? " × \(multiTurn.turns) turns" : ""))
        }
        parts.append("output \(output)")
        if !data.lora.isEmpty {
            parts.append("mix " + data.lora.map { "\($0.name)=\(Self.number($0.weight))" }.joined(separator: ","))
        }
        return parts.joined(separator: "; ")
    }

    /// The first model the endpoint lists, when none is configured.
    func firstModel() async throws(BenchConfigurationError) -> String {
        let url = configuration.target.baseURL + "/v1/models"
        do {
            var request = HTTPClientRequest(url: url)
            for (name, value) in configuration.target.headers { request.headers.add(name: name, value: value) }
            let seconds = min(configuration.target.timeout, 10)
            let response = try await client.execute(request, timeout: .milliseconds(Int64(seconds * 1000)))
            let body = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok,
                let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let first = (object["data"] as? [[String: Any]])?.first?["id"] as? String
            else {
                throw BenchConfigurationError(
                    "target.models (--model): not given, and \(url) answered \(response.status.code) with no model")
            }
            return first
        } catch let error as BenchConfigurationError {
            throw error
        } catch {
            throw BenchConfigurationError("target.models (--model): not given, and \(url) failed: \(error)")
        }
    }

    static func shift(_ records: [RequestRecord], by offset: Double) -> [RequestRecord] {
        guard offset != 0 else { return records }
        return records.map { record in
            var r = record
            r.timing.scheduled -= offset
            r.timing.sent -= offset
            r.timing.end = r.timing.end.map { $0 - offset }
            r.timing.chunks = r.timing.chunks.map { .init(time: $0.time - offset, tokens: $0.tokens) }
            return r
        }
    }

    static func seconds(_ value: Double) -> String { "\(number(value)) s" }
    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
