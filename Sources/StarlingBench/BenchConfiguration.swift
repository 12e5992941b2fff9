import Foundation
import StarlingAPI

/// Everything a run needs, as read from a YAML (or JSON) file and overridden by flags. The file's layout is
/// documented in `docs/bench.md`; every field is optional except `target.url`.
public struct BenchConfiguration: Sendable, Equatable {
    public var target = BenchTarget(baseURL: "", models: [])
    public var load = Load()
    public var data = DataSpec()
    public var slo: ServiceLevelObjective?
    public var seed: UInt64 = 0
    /// Where to write reports.
    public var output = Output()

    public init() {}

    /// How requests are paced.
    public struct Load: Sendable, Equatable {
        public var mode: Mode?
        public var arrivals = ArrivalProcess.poisson
        /// Seconds of load before measuring (left out of the report).
        public var warmup = 0.0

        public init() {}
    }

    public enum Mode: Sendable, Equatable {
        /// Open loop through these stages.
        case stages([LoadStage])
        /// Closed loop: `concurrency` requests always in flight for `duration` seconds.
        case concurrency(Int, duration: Double)
        /// Find the saturation rate, then run open-loop stages at fractions of it.
        case sweep(Sweep)
    }

    /// The saturation sweep: a closed-loop probe at `probeConcurrency` for `probeDuration` seconds measures the
    /// most requests per second the target completes (over the probe's second half, once it is full); then one
    /// open-loop stage of `stageDuration` seconds runs at each fraction of that rate.
    public struct Sweep: Sendable, Equatable {
        public var probeConcurrency = 256
        public var probeDuration = 30.0
        public var fractions = [0.25, 0.5, 0.75, 0.9, 1.0]
        public var stageDuration = 30.0

        public init() {}
    }

    /// What is sent.
    public struct DataSpec: Sendable, Equatable {
        public var input = LengthDistribution.lognormal(median: 161, sigma: 0.8, min: 4, max: 2048)
        /// nil: `PromptSource.defaultOutput`, or each dataset reply's length.
        public var output: LengthDistribution?
        public var sharedPrefix: SharedPrefix?
        public var multiTurn: MultiTurn?
        /// A ShareGPT-layout JSON or JSONL file.
        public var dataset: String?
        /// Models or adapters with weights; replaces `target.models` for picking each request's model.
        public var lora: [WeightedModel] = []

        public init() {}
    }

    public struct SharedPrefix: Sendable, Equatable {
        public var groups: Int
        public var prefixLength: Int
        public var questionLength: Int
        public var questionsPerGroup: Int

        public init(groups: Int, prefixLength: Int, questionLength: Int, questionsPerGroup: Int) {
            self.groups = groups
            self.prefixLength = prefixLength
            self.questionLength = questionLength
            self.questionsPerGroup = questionsPerGroup
        }
    }

    public struct MultiTurn: Sendable, Equatable {
        /// Sessions under way at once.
        public var sessions: Int
        /// User turns per generated session (dataset sessions have their own).
        public var turns: Int

        public init(sessions: Int, turns: Int) {
            self.sessions = sessions
            self.turns = turns
        }
    }

    public struct Output: Sendable, Equatable {
        public var json: String?
        public var html: String?

        public init() {}
    }
}

extension BenchConfiguration {
    /// Reads a configuration file; errors name the file and the field path.
    public static func load(path: String) throws(BenchConfigurationError) -> BenchConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw BenchConfigurationError("\(path): cannot read: \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    /// Parses YAML or JSON text holding one configuration.
    public static func parse(_ text: String, source: String) throws(BenchConfigurationError) -> BenchConfiguration {
        let documents: [ManifestDocument]
        do {
            documents = try ManifestDecoder.documents(from: text, source: source)
        } catch {
            throw BenchConfigurationError(error.description)
        }
        guard documents.count == 1 else {
            throw BenchConfigurationError("\(source): expected one configuration document, found \(documents.count)")
        }
        do {
            return try BenchConfiguration(documents[0].value)
        } catch {
            throw BenchConfigurationError("\(source): \(error.description)")
        }
    }

    /// Reads a configuration from a parsed document.
    public init(_ value: JSONValue) throws(FieldError) {
        self.init()
        var root = try ConfigReader(value)
        if var target = try root.object("target") {
            if let url = try target.string("url") { self.target = BenchTarget(baseURL: url, models: []) }
            if let api = try target.string("api") {
                guard let parsed = BenchTarget.API(rawValue: api) else {
                    throw .notSupported(target.path("api"), api, allowed: BenchTarget.API.allCases.map(\.rawValue))
                }
                self.target.api = parsed
            }
            if let stream = try target.bool("stream") { self.target.stream = stream }
            if let models = try target.array("models") {
                self.target.models = try models.map { (path, value) throws(FieldError) in
                    guard case .string(let name) = value, !name.isEmpty else {
                        throw FieldError(path, "Invalid value: expected a model name")
                    }
                    return name
                }
            }
            if let headers = try target.stringMap("headers") { self.target.headers = headers }
            if let timeout = try target.double("timeout") { self.target.timeout = timeout }
            if let header = try target.string("endpointHeader") { self.target.endpointHeader = header }
            if let header = try target.string("sessionHeader") {
                self.target.sessionHeader = header.isEmpty ? nil : header
            }
            if let user = try target.bool("sessionUser") { self.target.sessionUser = user }
            try target.finish()
        }
        if var load = try root.object("load") {
            try self.load = Self.load(&load)
            try load.finish()
        }
        if var data = try root.object("data") {
            try self.data = Self.data(&data)
            try data.finish()
        }
        if var slo = try root.object("slo") {
            let ttft = try slo.double("ttftMs")
            let tpot = try slo.double("tpotMs")
            try slo.finish()
            if ttft != nil || tpot != nil {
                self.slo = ServiceLevelObjective(
                    timeToFirstToken: ttft.map { $0 / 1000 }, timePerOutputToken: tpot.map { $0 / 1000 })
            }
        }
        if let seed = try root.int("seed") {
            guard seed >= 0 else { throw FieldError("seed", "Invalid value: \(seed): must not be negative") }
            self.seed = UInt64(seed)
        }
        if var output = try root.object("output") {
            self.output.json = try output.string("json")
            self.output.html = try output.string("html")
            try output.finish()
        }
        try root.finish()
    }

    private static func load(_ reader: inout ConfigReader) throws(FieldError) -> Load {
        var load = Load()
        if let arrivals = try reader.string("arrivals") {
            guard let process = ArrivalProcess(rawValue: arrivals) else {
                throw .notSupported(
                    reader.path("arrivals"), arrivals, allowed: ArrivalProcess.allCases.map(\.rawValue))
            }
            load.arrivals = process
        }
        if let warmup = try reader.double("warmup") { load.warmup = warmup }
        let duration = try reader.double("duration")
        var modes: [(String, Mode)] = []
        if let stages = try reader.array("stages") {
            var list: [LoadStage] = []
            for (path, value) in stages {
                var stage = try ConfigReader(value, path: path)
                guard let rate = try stage.double("rate") else { throw .required(stage.path("rate")) }
                guard let seconds = try stage.double("duration") else { throw .required(stage.path("duration")) }
                try stage.finish()
                list.append(LoadStage(rate: rate, duration: seconds))
            }
            modes.append(("stages", .stages(list)))
        }
        if let rate = try reader.double("rate") {
            modes.append(("rate", .stages([LoadStage(rate: rate, duration: duration ?? 30)])))
        }
        if let concurrency = try reader.int("concurrency") {
            modes.append(("concurrency", .concurrency(concurrency, duration: duration ?? 30)))
        }
        if var sweepReader = try reader.object("sweep") {
            var sweep = Sweep()
            if let c = try sweepReader.int("probeConcurrency") { sweep.probeConcurrency = c }
            if let d = try sweepReader.double("probeDuration") { sweep.probeDuration = d }
            if let d = try sweepReader.double("stageDuration") { sweep.stageDuration = d }
            if let fractions = try sweepReader.array("fractions") {
                sweep.fractions = try fractions.map { (path, value) throws(FieldError) in
                    switch value {
                    case .int(let i): return Double(i)
                    case .double(let d): return d
                    default: throw FieldError(path, "Invalid value: expected number, got \(value.typeName)")
                    }
                }
            }
            try sweepReader.finish()
            modes.append(("sweep", .sweep(sweep)))
        }
        guard modes.count <= 1 else {
            throw FieldError(
                reader.path(modes[1].0), "cannot be combined with \(reader.path(modes[0].0)); give one load mode")
        }
        if duration != nil, modes.first.map({ $0.0 == "stages" || $0.0 == "sweep" }) ?? true {
            throw FieldError(reader.path("duration"), "only applies with rate or concurrency")
        }
        load.mode = modes.first?.1
        return load
    }

    private static func data(_ reader: inout ConfigReader) throws(FieldError) -> DataSpec {
        var data = DataSpec()
        func distribution(_ key: String, _ reader: inout ConfigReader) throws(FieldError) -> LengthDistribution? {
            guard let text = try reader.scalarText(key) else { return nil }
            do {
                return try LengthDistribution.parse(text, field: reader.path(key))
            } catch {
                // The parser's messages start with the field path (`data.output.max: ...`): keep it as the path.
                let parts = error.description.split(separator: ": ", maxSplits: 1).map(String.init)
                throw FieldError(parts[0], parts.count == 2 ? parts[1] : error.description)
            }
        }
        if let input = try distribution("input", &reader) { data.input = input }
        data.output = try distribution("output", &reader)
        if var prefix = try reader.object("sharedPrefix") {
            func required(_ key: String) throws(FieldError) -> Int {
                guard let value = try prefix.int(key) else { throw .required(prefix.path(key)) }
                return value
            }
            data.sharedPrefix = SharedPrefix(
                groups: try required("groups"), prefixLength: try required("prefixLength"),
                questionLength: try required("questionLength"), questionsPerGroup: try required("questionsPerGroup"))
            try prefix.finish()
        }
        if var multiTurn = try reader.object("multiTurn") {
            guard let sessions = try multiTurn.int("sessions") else { throw .required(multiTurn.path("sessions")) }
            let turns = try multiTurn.int("turns") ?? 4
            try multiTurn.finish()
            data.multiTurn = MultiTurn(sessions: sessions, turns: turns)
        }
        data.dataset = try reader.string("dataset")
        if let lora = try reader.array("lora") {
            data.lora = try lora.map { (path, value) throws(FieldError) in
                var entry = try ConfigReader(value, path: path)
                guard let name = try entry.string("name"), !name.isEmpty else { throw .required(entry.path("name")) }
                let weight = try entry.double("weight") ?? 1
                try entry.finish()
                return WeightedModel(name: name, weight: weight)
            }
        }
        return data
    }
}
