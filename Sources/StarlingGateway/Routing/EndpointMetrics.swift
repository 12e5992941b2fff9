/// What the gateway knows of one model server from its Prometheus `/metrics` (vLLM's names): the load the
/// scorers read. Fields the server did not report stay nil, so a scorer can tell "unknown" from "zero".
public struct EndpointMetrics: Sendable, Equatable {
    /// `vllm:num_requests_running`.
    public var running: Double?
    /// `vllm:num_requests_waiting`.
    public var waiting: Double?
    /// `vllm:kv_cache_usage_perc` (0...1).
    public var kvCacheUsage: Double?
    /// Adapters in the running batch and waiting, and the adapter slots (`vllm:lora_requests_info` labels).
    public var runningAdapters: Set<String>?
    public var waitingAdapters: Set<String>?
    public var maxLoras: Int?
    /// KV block size in tokens (`vllm:cache_config_info{block_size}`), what prefix hashing must cut by.
    public var blockSize: Int?

    public init() {}

    /// Parses a scrape. Reads line by line over the bytes and looks only at the few families it needs, so a
    /// large exposition (histograms with many buckets) costs one pass and no per-line strings.
    public init(prometheusText bytes: some Collection<UInt8>) {
        self.init()
        let lines = Array(bytes).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for line in lines where line.first != UInt8(ascii: "#") {
            guard let family = Self.family(of: line) else { continue }
            switch family {
            case .running: running = Self.value(of: line)
            case .waiting: waiting = Self.value(of: line)
            case .kvCache: kvCacheUsage = Self.value(of: line)
            case .lora:
                // vLLM keeps one series per change with the time as value; the newest is the latest state.
                let labels = Self.labels(of: line)
                runningAdapters = Self.adapterSet(labels["running_lora_adapters"])
                waitingAdapters = Self.adapterSet(labels["waiting_lora_adapters"])
                maxLoras = labels["max_lora"].flatMap { Int($0) }
            case .cacheConfig:
                blockSize = Self.labels(of: line)["block_size"].flatMap { Int($0) }
            }
        }
    }

    enum Family: CaseIterable {
        case running, waiting, kvCache, lora, cacheConfig

        var name: [UInt8] {
            switch self {
            case .running: Array("vllm:num_requests_running".utf8)
            case .waiting: Array("vllm:num_requests_waiting".utf8)
            case .kvCache: Array("vllm:kv_cache_usage_perc".utf8)
            case .lora: Array("vllm:lora_requests_info".utf8)
            case .cacheConfig: Array("vllm:cache_config_info".utf8)
            }
        }
    }

    static let families = Family.allCases.map { ($0, $0.name) }

    /// The family a sample line belongs to: its name followed by `{` or a space.
    static func family(of line: ArraySlice<UInt8>) -> Family? {
        for (family, name) in families where line.count > name.count && line.starts(with: name) {
            let next = line[line.startIndex + name.count]
            if next == UInt8(ascii: "{") || next == UInt8(ascii: " ") { return family }
        }
        return nil
    }

    /// The sample value: the field after the labels (an optional timestamp may follow it).
    static func value(of line: ArraySlice<UInt8>) -> Double? {
        var start = line.startIndex
        if let close = line.lastIndex(of: UInt8(ascii: "}")) { start = close + 1 }
        let fields = line[start...].split(separator: UInt8(ascii: " "))
        guard let first = fields.first else { return nil }
        return Double(String(decoding: first, as: UTF8.self))
    }

    /// Label pairs, with `\"`, `\\` and `\n` escapes undone.
    static func labels(of line: ArraySlice<UInt8>) -> [String: String] {
        guard let open = line.firstIndex(of: UInt8(ascii: "{")) else { return [:] }
        var result: [String: String] = [:]
        var i = open + 1
        while i < line.endIndex, line[i] != UInt8(ascii: "}") {
            guard let equals = line[i...].firstIndex(of: UInt8(ascii: "=")), equals + 1 < line.endIndex,
                line[equals + 1] == UInt8(ascii: "\"")
            else { break }
            let key = String(decoding: line[i..<equals], as: UTF8.self)
            var value: [UInt8] = []
            var j = equals + 2
            while j < line.endIndex, line[j] != UInt8(ascii: "\"") {
                if line[j] == UInt8(ascii: "\\"), j + 1 < line.endIndex {
                    value.append(line[j + 1] == UInt8(ascii: "n") ? 10 : line[j + 1])
                    j += 2
                } else {
                    value.append(line[j])
                    j += 1
                }
            }
            result[key] = String(decoding: value, as: UTF8.self)
            i = j + 1
            if i < line.endIndex, line[i] == UInt8(ascii: ",") { i += 1 }
        }
        return result
    }

    static func adapterSet(_ text: String?) -> Set<String>? {
        guard let text else { return nil }
        return Set(text.split(separator: ",").map { String($0) }.filter { !$0.isEmpty })
    }
}
