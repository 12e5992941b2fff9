import StarlingTokenizer

/// The simulated engine's state machine: continuous batching with chunked prefill, a paged KV cache with prefix
/// caching, recompute preemption and LoRA slots, following vLLM's V1 scheduler. It has no clock: callers pass the
/// simulated time in, ask for the next step (`schedule`) and report it done (`complete`). The live server and
/// the offline calibration drive the same core.
public struct EngineCore: Sendable {
    public let configuration: EngineConfiguration
    public let cost: StepCostModel
    public private(set) var pool: KVBlockPool
    public private(set) var statistics = EngineStatistics()
    private let hasher: PrefixBlockHasher

    private var sequences: [UInt64: SequenceState] = [:]
    /// Running requests in scheduling order; preemption takes from the end.
    private var running: [UInt64] = []
    /// Waiting requests, oldest first (preempted ones go back to the front).
    private var waiting: [UInt64] = []
    private var waitingHead = 0
    /// Adapters holding a LoRA slot, with the time their weights are ready.
    private var loraSlots: [String: Double] = [:]
    private var loraLastUsed: [String: Double] = [:]
    /// Requests accepted by the frontend but not yet in the scheduler.
    private var arriving: [(ready: Double, id: UInt64)] = []
    private var nextID: UInt64 = 1

    struct SequenceState {
        var request: EngineRequest
        var blockHashes: [UInt64]
        var blocks: [Int] = []
        var registeredBlocks = 0
        var computed = 0
        var generated = 0
        var arrival: Double
        var enqueued: Double
        var firstScheduled: Double?
        var lastToken: Double?
        var running = false
        var countedPrompt = false
        var cachedPromptTokens = 0

        var totalTokens: Int { request.promptTokens.count + generated }
    }

    /// One step: which requests compute how many tokens, and how long it takes.
    public struct StepPlan: Sendable {
        public var start: Double
        public var duration: Double
        public var work: StepWork
        public var scheduled: [(id: UInt64, tokens: Int)]
        public var end: Double { start + duration }
    }

    /// What `schedule` decided.
    public enum Decision: Sendable {
        case step(StepPlan)
        /// Nothing to run now; call again at the time given (a request clears the frontend or an adapter finishes
        /// loading), or when a request arrives if nil.
        case idle(until: Double?)
    }

    public init(configuration: EngineConfiguration) {
        self.configuration = configuration
        cost = StepCostModel(profile: configuration.profile)
        pool = KVBlockPool(
            numBlocks: configuration.numGPUBlocks, blockSize: configuration.blockSize,
            prefixCaching: configuration.enablePrefixCaching)
        hasher = PrefixBlockHasher(blockSize: configuration.blockSize)
    }

    // MARK: Observed state

    public var runningCount: Int { running.count }
    public var waitingCount: Int { waiting.count - waitingHead + arriving.count }
    public var kvCacheUsage: Double { pool.usage }
    /// Adapters of running requests, and of waiting ones.
    public var runningAdapters: Set<String> { Set(running.compactMap { sequences[$0]?.request.adapter }) }
    public var waitingAdapters: Set<String> {
        var result = Set<String>()
        for id in waiting[waitingHead...] { if let a = sequences[id]?.request.adapter { result.insert(a) } }
        for entry in arriving { if let a = sequences[entry.id]?.request.adapter { result.insert(a) } }
        return result
    }
    /// True when no request is in the engine.
    public var isEmpty: Bool { sequences.isEmpty }

    // MARK: Requests

    /// Accepts a request at `now`; it enters the scheduler after the profile's frontend overhead.
    public mutating func add(_ request: EngineRequest, now: Double) -> UInt64 {
        let id = nextID
        nextID += 1
        let hashes = hasher.blockHashes(tokens: request.promptTokens, model: request.model)
        let ready = now + configuration.profile.frontendOverhead
        sequences[id] = SequenceState(request: request, blockHashes: hashes, arrival: now, enqueued: ready)
        arriving.append((ready, id))
        return id
    }

    /// Drops a request (client gone); its blocks are freed at once.
    public mutating func abort(_ id: UInt64) {
        guard let sequence = sequences.removeValue(forKey: id) else { return }
        pool.release(sequence.blocks)
        if sequence.running {
            running.removeAll { $0 == id }
        } else if let index = waiting[waitingHead...].firstIndex(of: id) {
            waiting.remove(at: index)
        } else {
            arriving.removeAll { $0.id == id }
        }
        statistics.finished[.abort, default: 0] += 1
    }

    // MARK: Stepping

    /// Plans the next step at `now`.
    public mutating func schedule(now: Double) -> Decision {
        admitArrivals(now: now)
        var budget = configuration.maxNumBatchedTokens
        var plan = StepPlan(start: now, duration: 0, work: StepWork(), scheduled: [])
        var preempted = false

        // Running requests first, in order; make room by preempting from the back.
        var index = 0
        while index < running.count, budget > 0 {
            let id = running[index]
            // Scalars only: holding a copy of the sequence would make the in-place append below copy its blocks.
            guard
                let (total, computed, generated, held) = sequences[id].map({
                    ($0.totalTokens, $0.computed, $0.generated, $0.blocks.count)
                })
            else {
                index += 1
                continue
            }
            let tokens = min(total - computed, budget)
            let needed = pool.blocks(forTokens: computed + tokens) - held
            var blocks: [Int]? = needed > 0 ? pool.allocate(needed) : []
            while blocks == nil {
                let victim = running.removeLast()
                preempt(victim, now: now)
                preempted = true
                if victim == id { break }
                blocks = pool.allocate(needed)
            }
            guard let blocks else { break }
            if !blocks.isEmpty { sequences[id]!.blocks.append(contentsOf: blocks) }
            add(id, tokens: tokens, computed: computed, total: total, generated: generated, to: &plan)
            budget -= tokens
            index += 1
        }

        // Then waiting requests, unless this step had to preempt.
        if !preempted {
            var skipped: [UInt64] = []
            while waitingHead < waiting.count, budget > 0, running.count < configuration.maxNumSeqs {
                let id = waiting[waitingHead]
                guard var sequence = sequences[id] else {
                    waitingHead += 1
                    continue
                }
                if let adapter = sequence.request.adapter, !loraReady(adapter, now: now) {
                    skipped.append(id)
                    waitingHead += 1
                    continue
                }
                var cachedBlocks = 0
                if sequence.computed == 0 && configuration.enablePrefixCaching {
                    let usable = (sequence.totalTokens - 1) / configuration.blockSize
                    cachedBlocks = min(pool.cachedPrefixLength(sequence.blockHashes), usable)
                }
                let start = cachedBlocks * configuration.blockSize
                let tokens = min(sequence.totalTokens - start, budget)
                let fresh = pool.blocks(forTokens: start + tokens) - cachedBlocks
                let hashes = sequence.blockHashes[0..<cachedBlocks]
                guard fresh + pool.freeBlocksAmong(hashes) <= pool.freeCount else { break }
                if configuration.enablePrefixCaching {
                    statistics.prefixCacheQueries += UInt64(sequence.totalTokens)
                    statistics.prefixCacheHits += UInt64(start)
                }
                sequence.blocks = pool.acquireCached(hashes) + (pool.allocate(fresh) ?? [])
                sequence.registeredBlocks = cachedBlocks
                sequence.computed = start
                sequence.running = true
                if sequence.firstScheduled == nil {
                    sequence.firstScheduled = now
                    sequence.cachedPromptTokens = start
                    statistics.queueTime.observe(now - sequence.enqueued)
                }
                if let adapter = sequence.request.adapter { loraLastUsed[adapter] = now }
                sequences[id] = sequence
                waitingHead += 1
                running.append(id)
                add(
                    id, tokens: tokens, computed: sequence.computed, total: sequence.totalTokens,
                    generated: sequence.generated, to: &plan)
                budget -= tokens
            }
            if !skipped.isEmpty {
                waitingHead -= skipped.count
                waiting.replaceSubrange(waitingHead..<waitingHead + skipped.count, with: skipped)
            }
        }
        compactWaiting()

        guard !plan.scheduled.isEmpty else { return .idle(until: nextWake(now: now)) }
        plan.work.adapters = Set(plan.scheduled.compactMap { sequences[$0.id]?.request.adapter }).count
        plan.duration = cost.duration(of: plan.work)
        statistics.steps += 1
        return .step(plan)
    }

    /// Applies a finished step at `now` (its end, or later if the caller ran late); returns the events per request.
    public mutating func complete(_ plan: StepPlan, now: Double) -> [(id: UInt64, event: EngineEvent)] {
        var events: [(id: UInt64, event: EngineEvent)] = []
        events.reserveCapacity(plan.scheduled.count)
        for (id, tokens) in plan.scheduled {
            guard var sequence = sequences[id], sequence.running else { continue }
            sequence.computed += tokens
            registerFullBlocks(&sequence)
            guard sequence.computed >= sequence.totalTokens else {
                sequences[id] = sequence
                continue
            }
            if !sequence.countedPrompt {
                sequence.countedPrompt = true
                statistics.promptTokens += UInt64(sequence.request.promptTokens.count)
            }
            sequence.generated += 1
            statistics.generationTokens += 1
            var cached: Int?
            if let last = sequence.lastToken {
                statistics.interTokenLatency.observe(now - last)
            } else {
                statistics.timeToFirstToken.observe(now - sequence.arrival)
                cached = sequence.cachedPromptTokens
            }
            sequence.lastToken = now
            if sequence.generated >= sequence.request.outputTokens {
                events.append(
                    (
                        id,
                        EngineEvent(
                            tokens: 1, time: now, cachedPromptTokens: cached,
                            finishReason: sequence.request.finishReason)
                    ))
                finish(id, sequence, now: now)
            } else {
                events.append((id, EngineEvent(tokens: 1, time: now, cachedPromptTokens: cached)))
                sequences[id] = sequence
            }
        }
        return events
    }

    // MARK: Internals

    private func add(
        _ id: UInt64, tokens: Int, computed: Int, total: Int, generated: Int, to plan: inout StepPlan
    ) {
        plan.scheduled.append((id, tokens))
        if total - computed > 1 || generated == 0 {
            // A prefill chunk (or a recompute after preemption).
            plan.work.prefillTokens += tokens
            let start = Double(computed)
            let n = Double(tokens)
            plan.work.prefillAttentionPairs += n * start + n * (n + 1) / 2
        } else {
            plan.work.decodeSequences += 1
            plan.work.decodeContextTokens += computed
        }
    }

    private mutating func admitArrivals(now: Double) {
        guard !arriving.isEmpty else { return }
        var remaining: [(ready: Double, id: UInt64)] = []
        for entry in arriving {
            if entry.ready <= now { waiting.append(entry.id) } else { remaining.append(entry) }
        }
        arriving = remaining
    }

    private func nextWake(now: Double) -> Double? {
        var wake = arriving.map(\.ready).min()
        for (adapter, ready) in loraSlots where ready > now {
            let needed = waiting[waitingHead...].contains { sequences[$0]?.request.adapter == adapter }
            if needed { wake = min(wake ?? ready, ready) }
        }
        return wake
    }

    /// Whether `adapter` can run now; starts loading it into a free (or idle) slot when it is not resident.
    private mutating func loraReady(_ adapter: String, now: Double) -> Bool {
        if let ready = loraSlots[adapter] { return ready <= now }
        if loraSlots.count >= configuration.maxLoras {
            let busy = runningAdapters
            let evictable = loraSlots.keys.filter { !busy.contains($0) && loraSlots[$0]! <= now }
            guard let victim = evictable.min(by: { (loraLastUsed[$0] ?? 0) < (loraLastUsed[$1] ?? 0) }) else {
                return false
            }
            loraSlots[victim] = nil
        }
        loraSlots[adapter] = now + configuration.profile.loraLoadSeconds
        return configuration.profile.loraLoadSeconds <= 0
    }

    private mutating func preempt(_ id: UInt64, now: Double) {
        guard var sequence = sequences[id] else { return }
        pool.release(sequence.blocks)
        sequence.blocks = []
        sequence.registeredBlocks = 0
        sequence.computed = 0
        sequence.running = false
        sequences[id] = sequence
        statistics.preemptions += 1
        if waitingHead > 0 {
            waitingHead -= 1
            waiting[waitingHead] = id
        } else {
            waiting.insert(id, at: 0)
        }
    }

    private mutating func registerFullBlocks(_ sequence: inout SequenceState) {
        let full = min(sequence.computed / configuration.blockSize, sequence.blockHashes.count)
        while sequence.registeredBlocks < full {
            let i = sequence.registeredBlocks
            pool.register(sequence.blocks[i], hash: sequence.blockHashes[i])
            sequence.registeredBlocks += 1
        }
    }

    private mutating func finish(_ id: UInt64, _ sequence: SequenceState, now: Double) {
        pool.release(sequence.blocks)
        sequences[id] = nil
        if let index = running.firstIndex(of: id) { running.remove(at: index) }
        statistics.finished[sequence.request.finishReason, default: 0] += 1
        statistics.endToEndLatency.observe(now - sequence.arrival)
    }

    private mutating func compactWaiting() {
        if waitingHead > 1024 && waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }
}
