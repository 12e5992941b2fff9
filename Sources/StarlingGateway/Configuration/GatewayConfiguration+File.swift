import Foundation
import StarlingAPI
import StarlingServerLimits

extension GatewayConfiguration {
    /// The `apiVersion` of the gateway's own document.
    public static let apiVersion = "starling.dev/v1alpha1"

    /// Reads a configuration file (YAML or JSON, one or more documents); errors name the file, the document
    /// and the field path.
    public static func load(path: String) throws(GatewayConfigurationError) -> GatewayConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw GatewayConfigurationError("\(path): cannot read: \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    /// Parses configuration documents:
    /// - `kind: Gateway` (`starling.dev/v1alpha1`, at most one): listener, timeouts, and `pools` with their
    ///   endpoints, policy and profiles;
    /// - `kind: InferencePool` (`inference.networking.k8s.io/v1`): declares a pool by name;
    /// - `kind: InferenceObjective` (`inference.networking.x-k8s.io`): `priority` (chosen by header) or the
    ///   v1alpha2 `modelName` / `criticality` / `targetModels`;
    /// - `kind: InferenceModelRewrite`: `rules` of `matches` and weighted `targets`.
    public static func parse(_ text: String, source: String) throws(GatewayConfigurationError) -> GatewayConfiguration {
        let documents: [ManifestDocument]
        do {
            documents = try ManifestDecoder.documents(from: text, source: source)
        } catch {
            throw GatewayConfigurationError(error.description)
        }
        var configuration = GatewayConfiguration(pools: [])
        var declaredPools: [String] = []
        var sawGateway = false
        for document in documents {
            do throws(FieldError) {
                switch document.kind {
                case "Gateway":
                    guard !sawGateway else { throw FieldError("kind", "only one Gateway document is allowed") }
                    sawGateway = true
                    try configuration.readGateway(document.value)
                case "InferencePool":
                    declaredPools.append(try readInferencePool(document.value))
                case "InferenceObjective":
                    try configuration.objectives.readObjective(document.value)
                case "InferenceModelRewrite":
                    try configuration.objectives.readRewrite(document.value)
                case let kind?:
                    throw FieldError.notSupported(
                        "kind", kind,
                        allowed: ["Gateway", "InferencePool", "InferenceObjective", "InferenceModelRewrite"])
                case nil:
                    throw FieldError.required("kind")
                }
            } catch {
                throw GatewayConfigurationError("\(document.source): \(error.description)")
            }
        }
        for name in declaredPools where !configuration.pools.contains(where: { $0.settings.name == name }) {
            configuration.pools.append(Pool(settings: PoolSettings(name: name)))
        }
        guard !configuration.pools.isEmpty else {
            throw GatewayConfigurationError(
                "\(source): no pool: add a Gateway document with spec.pools, or an InferencePool")
        }
        return configuration
    }

    private mutating func readGateway(_ value: JSONValue) throws(FieldError) {
        var root = try ConfigReader(value)
        _ = try root.string("apiVersion")
        _ = try root.string("kind")
        _ = root.value("metadata")
        guard var spec = try root.object("spec") else { throw .required("spec") }
        try root.finish()
        if let listen = try spec.string("listen") {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                (0...65535).contains(port)
            else { throw FieldError(spec.path("listen"), "Invalid value: \"\(listen)\": expected HOST:PORT") }
            host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            self.port = port
        }
        if let bytes = try spec.int("maxBodyBytes") {
            guard bytes > 0 else { throw FieldError(spec.path("maxBodyBytes"), "must be positive, got \(bytes)") }
            maxBodyBytes = bytes
        }
        if var section = try spec.object("limits") {
            if let d = try section.duration("headerTimeout") { limits.headerTimeout = d }
            if let d = try section.duration("bodyTimeout") { limits.bodyTimeout = d }
            if let d = try section.duration("idleTimeout") { limits.idleTimeout = d }
            if let n = try section.int("maxConnections") { limits.maxConnections = n }
            if let n = try section.int("maxBufferedBodyBytes") { limits.maxBufferedBodyBytes = n }
            if let n = try section.int("listenBacklog") { limits.listenBacklog = n }
            if let problem = limits.validate().first {
                let field = String(problem.prefix { $0 != ":" })
                throw FieldError(section.path(field), String(problem.dropFirst(field.count + 2)))
            }
            try section.finish()
        }
        if let d = try spec.duration("upstreamTimeout") { upstreamTimeout = d }
        if let d = try spec.duration("scrapeInterval") { scrapeInterval = d }
        if let d = try spec.duration("connectTimeout") { connectTimeout = d }
        if let d = try spec.duration("modelsInterval") { modelsInterval = d }
        if let retries = try spec.int("maxRetries") {
            guard retries >= 0 else { throw FieldError(spec.path("maxRetries"), "must be at least 0, got \(retries)") }
            maxRetries = retries
        }
        if let loops = try spec.int("eventLoops") {
            guard (1...Self.maxEventLoops).contains(loops) else {
                throw FieldError(spec.path("eventLoops"), "must be 1-\(Self.maxEventLoops), got \(loops)")
            }
            eventLoops = loops
        }
        if let header = try spec.string("sessionHeader") { sessionHeader = header.lowercased() }
        if let header = try spec.string("objectiveHeader") { objectiveHeader = header.lowercased() }
        for (path, item) in try spec.array("pools") ?? [] {
            let pool = try Self.readPool(item, path: path)
            guard !pools.contains(where: { $0.settings.name == pool.settings.name }) else {
                throw FieldError("\(path).name", "Duplicate value: \"\(pool.settings.name)\"")
            }
            pools.append(pool)
        }
        try spec.finish()
    }

    static func readPool(_ value: JSONValue, path: String) throws(FieldError) -> Pool {
        var reader = try ConfigReader(value, path: path)
        guard let name = try reader.string("name") else { throw .required(reader.path("name")) }
        var settings = PoolSettings(name: name)
        var endpoints: [EndpointAddress] = []
        for (itemPath, item) in try reader.array("endpoints") ?? [] {
            guard case .string(let text) = item else {
                throw FieldError(itemPath, "Invalid value: expected string, got \(item.typeName)")
            }
            do {
                endpoints.append(try EndpointAddress(parsing: text))
            } catch {
                throw FieldError(itemPath, "Invalid value: \(error.message)")
            }
        }
        var weights = RoutingPolicy.Weights()
        if var w = try reader.object("weights") {
            let fields: [(String, WritableKeyPath<RoutingPolicy.Weights, Double>)] = [
                ("prefillLoad", \.prefillLoad), ("prefix", \.prefix), ("queue", \.queue), ("kvCache", \.kvCache),
                ("lora", \.lora), ("session", \.session),
            ]
            for (name, field) in fields {
                guard let value = try w.double(name) else { continue }
                guard value >= 0 else { throw FieldError(w.path(name), "must be at least 0, got \(value)") }
                weights[keyPath: field] = value
            }
            try w.finish()
        }
        var profiles: [String: SchedulingProfile] = [:]
        if let value = reader.value("profiles") {
            guard case .object(let members) = value else {
                throw FieldError(reader.path("profiles"), "Invalid value: expected object, got \(value.typeName)")
            }
            for profileName in members.keys.sorted() {
                profiles[profileName] = try readProfile(
                    members[profileName]!, name: profileName, path: "\(reader.path("profiles")).\(profileName)")
            }
        }
        let policy = try reader.string("policy") ?? RoutingPolicy.default.rawValue
        if let profile = profiles[policy] {
            settings.profile = profile
        } else if let ready = RoutingPolicy(rawValue: policy) {
            settings.profile = ready.profile(weights: weights)
        } else {
            throw .notSupported(
                reader.path("policy"), policy, allowed: RoutingPolicy.allCases.map(\.rawValue) + profiles.keys.sorted())
        }
        if var saturation = try reader.object("saturation") {
            if let q = try saturation.double("queueDepth") {
                guard q > 0 else { throw FieldError(saturation.path("queueDepth"), "must be positive, got \(q)") }
                settings.saturation.queueDepthThreshold = q
            }
            if let kv = try saturation.double("kvCache") {
                guard kv > 0 && kv <= 1 else {
                    throw FieldError(saturation.path("kvCache"), "must be in (0, 1], got \(kv)")
                }
                settings.saturation.kvCacheThreshold = kv
            }
            try saturation.finish()
        }
        if var queue = try reader.object("queue") {
            for criticality in [Criticality.critical, .standard] {
                let key = criticality == .critical ? "critical" : "standard"
                if let limit = try queue.int(key) {
                    guard limit >= 0 else { throw FieldError(queue.path(key), "must be at least 0, got \(limit)") }
                    settings.admission.queueLimits[criticality] = limit
                }
            }
            if let d = try queue.duration("timeout") { settings.queueTimeout = d }
            try queue.finish()
        }
        if let d = try reader.duration("noEndpointWait") { settings.noEndpointWait = d }
        if let d = try reader.duration("staleAfter") { settings.staleAfter = d }
        if let n = try reader.positiveInt("unhealthyAfter") { settings.unhealthyAfter = n }
        if let n = try reader.positiveInt("prefixIndexCapacity") { settings.prefixIndexCapacity = n }
        if let n = try reader.positiveInt("sessionCapacity") { settings.sessionCapacity = n }
        if let n = try reader.positiveInt("blockSize") { settings.defaultBlockSize = n }
        for (itemPath, item) in try reader.array("models") ?? [] {
            guard case .string(let model) = item else {
                throw FieldError(itemPath, "Invalid value: expected string, got \(item.typeName)")
            }
            settings.models.append(model)
        }
        if let seed = try reader.int("seed") { settings.seed = UInt64(bitPattern: Int64(seed)) }
        try reader.finish()
        return Pool(settings: settings, endpoints: endpoints)
    }

    static func readProfile(_ value: JSONValue, name: String, path: String) throws(FieldError) -> SchedulingProfile {
        var reader = try ConfigReader(value, path: path)
        var profile = SchedulingProfile(name: name)
        for (itemPath, item) in try reader.array("filters") ?? [] {
            var filter = try ConfigReader(item, path: itemPath)
            let type = try filter.string("type")
            switch type {
            case "least-queue":
                profile.filters.append(LeastQueueFilter(slack: try filter.double("slack") ?? 0))
            case "kv-cache":
                profile.filters.append(KVCacheFilter(threshold: try filter.double("threshold") ?? 0.8))
            case "lora-affinity":
                profile.filters.append(LoRAAffinityFilter())
            case let other:
                throw .notSupported(
                    filter.path("type"), other ?? "", allowed: ["kv-cache", "least-queue", "lora-affinity"])
            }
            try filter.finish()
        }
        let scorerTypes: [String: any EndpointScorer] = [
            "queue": QueueScorer(), "kv-cache": KVCacheScorer(), "prefix": PrefixScorer(), "lora": LoRAAffinityScorer(),
            "session": SessionAffinityScorer(), "prefill-load": PrefillLoadScorer(),
        ]
        for (itemPath, item) in try reader.array("scorers") ?? [] {
            var scorer = try ConfigReader(item, path: itemPath)
            let type = try scorer.string("type") ?? ""
            guard let made = scorerTypes[type] else {
                throw .notSupported(scorer.path("type"), type, allowed: scorerTypes.keys.sorted())
            }
            let weight = try scorer.double("weight") ?? 1
            guard weight >= 0 else { throw FieldError(scorer.path("weight"), "must be at least 0, got \(weight)") }
            profile.scorers.append(.init(made, weight: weight))
            try scorer.finish()
        }
        let pickers: [String: any EndpointPicker] = [
            "max-score": MaxScorePicker(), "power-of-two": PowerOfTwoPicker(), "round-robin": RoundRobinPicker(),
            "random": RandomPicker(),
        ]
        if let picker = try reader.string("picker") {
            guard let made = pickers[picker] else {
                throw .notSupported(reader.path("picker"), picker, allowed: pickers.keys.sorted())
            }
            profile.picker = made
        }
        try reader.finish()
        return profile
    }

    static func readInferencePool(_ value: JSONValue) throws(FieldError) -> String {
        var root = try ConfigReader(value)
        _ = try root.string("apiVersion")
        _ = try root.string("kind")
        guard var metadata = try root.object("metadata") else { throw .required("metadata.name") }
        guard let name = try metadata.string("name") else { throw .required("metadata.name") }
        _ = root.value("spec")  // selector, targetPorts, endpointPickerRef: read when pods are watched
        _ = root.value("status")
        try root.finish()
        return name
    }
}

extension ObjectiveTable {
    mutating func readObjective(_ value: JSONValue) throws(FieldError) {
        var root = try ConfigReader(value)
        _ = try root.string("apiVersion")
        _ = try root.string("kind")
        guard var metadata = try root.object("metadata"), let name = try metadata.string("name") else {
            throw .required("metadata.name")
        }
        guard var spec = try root.object("spec") else { throw .required("spec") }
        _ = root.value("status")
        try root.finish()
        _ = spec.value("poolRef")
        var criticality: Criticality?
        if let priority = try spec.int("priority") { criticality = Criticality(priority: priority) }
        if let text = try spec.string("criticality") {
            guard let parsed = Criticality(name: text) else {
                throw .notSupported(spec.path("criticality"), text, allowed: ["Critical", "Standard", "Sheddable"])
            }
            criticality = parsed
        }
        objectives[name] = criticality ?? .standard
        if let model = try spec.string("modelName") {
            guard models[model] == nil else {
                throw FieldError(spec.path("modelName"), "Duplicate value: \"\(model)\"")
            }
            var targets: [Target] = []
            for (path, item) in try spec.array("targetModels") ?? [] {
                var target = try ConfigReader(item, path: path)
                guard let targetName = try target.string("name") else { throw .required(target.path("name")) }
                let weight = try target.int("weight") ?? 1
                guard weight >= 0 else { throw FieldError(target.path("weight"), "must be at least 0, got \(weight)") }
                try target.finish()
                targets.append(Target(model: targetName, weight: weight))
            }
            models[model] = ModelRule(objective: name, criticality: criticality, targets: targets)
        } else if spec.has("targetModels") {
            throw FieldError(spec.path("targetModels"), "needs spec.modelName")
        }
        try spec.finish()
    }

    mutating func readRewrite(_ value: JSONValue) throws(FieldError) {
        var root = try ConfigReader(value)
        _ = try root.string("apiVersion")
        _ = try root.string("kind")
        _ = root.value("metadata")
        _ = root.value("status")
        guard var spec = try root.object("spec") else { throw .required("spec") }
        try root.finish()
        _ = spec.value("poolRef")
        for (path, item) in try spec.array("rules") ?? [] {
            var rule = try ConfigReader(item, path: path)
            var names: [String] = []
            for (matchPath, match) in try rule.array("matches") ?? [] {
                var reader = try ConfigReader(match, path: matchPath)
                guard var model = try reader.object("model") else { throw .required(reader.path("model")) }
                let type = try model.string("type") ?? "Exact"
                guard type == "Exact" else { throw .notSupported(model.path("type"), type, allowed: ["Exact"]) }
                guard let name = try model.string("value") else { throw .required(model.path("value")) }
                try model.finish()
                try reader.finish()
                names.append(name)
            }
            var targets: [Target] = []
            for (targetPath, item) in try rule.array("targets") ?? [] {
                var target = try ConfigReader(item, path: targetPath)
                guard let name = try target.string("modelRewrite") else { throw .required(target.path("modelRewrite")) }
                let weight = try target.int("weight") ?? 1
                guard weight >= 0 else { throw FieldError(target.path("weight"), "must be at least 0, got \(weight)") }
                try target.finish()
                targets.append(Target(model: name, weight: weight))
            }
            guard !targets.isEmpty else {
                throw FieldError(rule.path("targets"), "Required value: at least one target")
            }
            try rule.finish()
            if names.isEmpty {
                fallback = ModelRule(targets: targets)
            }
            for name in names {
                var existing = models[name] ?? ModelRule()
                existing.targets = targets
                models[name] = existing
            }
        }
        try spec.finish()
    }
}

extension ConfigReader {
    /// A duration: `50ms`, `2s`, `1.5m`, `1h`, or a number of seconds.
    mutating func duration(_ key: String) throws(FieldError) -> Duration? {
        guard let text = try scalarText(key) else { return nil }
        guard let duration = DurationText.parse(text), duration >= .zero else {
            throw FieldError(path(key), "Invalid value: \"\(text)\": expected a duration such as 50ms, 2s or 1m")
        }
        return duration
    }

    mutating func positiveInt(_ key: String) throws(FieldError) -> Int? {
        guard let n = try int(key) else { return nil }
        guard n > 0 else { throw FieldError(path(key), "must be positive, got \(n)") }
        return n
    }
}

/// Durations written as text in configuration files and flags.
public enum DurationText {
    /// `50ms`, `2s`, `1.5m`, `1h`, `250us`, or a bare number of seconds; nil when malformed.
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("s", 1), ("m", 60), ("h", 3600)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)), number.isFinite else { return nil }
            return .nanoseconds(Int64((number * scale * 1e9).rounded()))
        }
        guard let seconds = Double(trimmed), seconds.isFinite else { return nil }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
