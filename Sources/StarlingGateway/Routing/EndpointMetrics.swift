import Foundation

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

    /// Parses a whole scrape (see `Parser` for one that arrives in chunks).
    public init(prometheusText bytes: some Collection<UInt8>) {
        var parser = Parser()
        parser.feed(bytes)
        self = parser.finish()
    }

    /// Reads a Prometheus exposition chunk by chunk as it arrives, without keeping it: one pass over the bytes
    /// that looks only at the few families it needs, so a large exposition (histograms with many buckets) costs
    /// no per-line copies or strings. Only a line cut by a chunk boundary is kept until its end arrives.
    public struct Parser: Sendable {
        private var metrics = EndpointMetrics()
        /// The unfinished last line of the chunks so far.
        private var partial: [UInt8] = []

        public init() {}

        public mutating func feed(_ chunk: some Collection<UInt8>) {
            let done: Void? = chunk.withContiguousStorageIfAvailable { feed(raw: UnsafeRawBufferPointer($0)) }
            if done == nil { Array(chunk).withUnsafeBytes { feed(raw: $0) } }
        }

        /// What the chunks said; a last line without a newline counts.
        public mutating func finish() -> EndpointMetrics {
            if !partial.isEmpty {
                partial.withUnsafeBytes { metrics.read(line: $0) }
                partial = []
            }
            return metrics
        }

        private mutating func feed(raw: UnsafeRawBufferPointer) {
            var start = 0
            if !partial.isEmpty {
                guard let end = Self.newline(in: raw, from: 0) else {
                    partial.append(contentsOf: raw)
                    return
                }
                partial.append(contentsOf: raw[..<end])
                partial.withUnsafeBytes { metrics.read(line: $0) }
                partial.removeAll(keepingCapacity: true)
                start = end + 1
            }
            while start < raw.count {
                guard let end = Self.newline(in: raw, from: start) else {
                    partial.append(contentsOf: raw[start...])
                    return
                }
                if end > start { metrics.read(line: UnsafeRawBufferPointer(rebasing: raw[start..<end])) }
                start = end + 1
            }
        }

        /// The offset of the first newline in `raw` at or after `start`.
        private static func newline(in raw: UnsafeRawBufferPointer, from start: Int) -> Int? {
            guard let base = raw.baseAddress, start < raw.count,
                let found = memchr(base + start, Int32(UInt8(ascii: "\n")), raw.count - start)
            else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
    }

    /// Takes in one sample line if it belongs to a family the gateway reads (comments and other families are
    /// skipped after a byte or a few).
    private mutating func read(line: UnsafeRawBufferPointer) {
        guard line.count > Self.prefix.count, line[0] == Self.prefix[0],
            line.starts(with: Self.prefix), let family = Self.family(of: line)
        else { return }
        let line = ArraySlice(line)
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

    /// The request a scrape sends. `name[]` asks prometheus_client's exporter (vLLM's) for only the families read
    /// here, a tenth of vLLM's exposition (its histograms are most of it); a server that ignores the query sends
    /// everything and the parser skips the rest.
    static let scrapePath =
        "/metrics?"
        + Family.allCases.map { "name%5B%5D=" + String(decoding: $0.name, as: UTF8.self) }.joined(separator: "&")

    /// What every family the gateway reads starts with.
    static let prefix = Array("vllm:".utf8)

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
    static func family(of line: UnsafeRawBufferPointer) -> Family? {
        // Histogram buckets make most lines `vllm:` samples: compare the byte after the prefix before the rest.
        for (family, name) in families
        where line.count > name.count && line[prefix.count] == name[prefix.count] && line.starts(with: name) {
            let next = line[name.count]
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
