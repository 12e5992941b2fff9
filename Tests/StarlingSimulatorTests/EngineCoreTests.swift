import Testing

@testable import StarlingSimulator

/// Properties of the performance model, checked in virtual time.
@Suite struct EngineCoreTests {
    static func configuration(_ edit: (inout EngineConfiguration) -> Void = { _ in }) -> EngineConfiguration {
        var c = EngineConfiguration(profile: ProfileCatalog.llama31_8B_H100)
        edit(&c)
        return c
    }

    static func request(_ i: Int, prompt: Int, output: Int, adapter: String? = nil, shared: Int = 0) -> EngineRequest {
        let tokens = (0..<prompt).map { $0 < shared ? UInt32($0) : UInt32(truncatingIfNeeded: i &* 100_003 &+ $0) }
        return EngineRequest(
            model: adapter ?? "m", adapter: adapter, promptTokens: tokens, outputTokens: output)
    }

    static func ttft(
        _ configuration: EngineConfiguration, _ arrivals: [(time: Double, request: EngineRequest)]
    )
        -> [Double]
    {
        OfflineSimulation(configuration: configuration).run(arrivals: arrivals).records.sorted {
            $0.arrival < $1.arrival
        }.map { $0.firstToken! - $0.arrival }
    }

    @Test func timeToFirstTokenGrowsWithPromptLength() {
        let lengths = [128, 1024, 4096, 16_384]
        let ttfts = lengths.map { Self.ttft(Self.configuration(), [(0, Self.request(0, prompt: $0, output: 4))])[0] }
        #expect(zip(ttfts, ttfts.dropFirst()).allSatisfy { $0 < $1 }, "\(ttfts)")
    }

    @Test func timeToFirstTokenGrowsWithTheQueueAhead() {
        // 64 long prompts arrive together; later ones wait behind the earlier prefills.
        let arrivals = (0..<64).map { (time: 0.0, request: Self.request($0, prompt: 4000, output: 8)) }
        let ttfts = Self.ttft(Self.configuration(), arrivals)
        let sorted = ttfts.sorted()
        #expect(sorted.last! > 5 * sorted.first!, "\(sorted.first!) .. \(sorted.last!)")
    }

    @Test func aPrefixHitCutsTimeToFirstToken() {
        let first = Self.request(1, prompt: 4096, output: 4, shared: 4096)
        let second = Self.request(2, prompt: 4096, output: 4, shared: 4096)
        let result = OfflineSimulation(configuration: Self.configuration()).run(arrivals: [(0, first), (1, second)])
        let ttft = result.records.sorted { $0.arrival < $1.arrival }.map { $0.firstToken! - $0.arrival }
        #expect(ttft[1] < ttft[0] * 0.7, "\(ttft)")
        #expect(result.statistics.prefixCacheHits == 4080)  // all but the last block, which must be recomputed
        let off = OfflineSimulation(configuration: Self.configuration { $0.enablePrefixCaching = false })
            .run(arrivals: [(0, first), (1, second)])
        #expect(off.statistics.prefixCacheHits == 0)
    }

    @Test(arguments: [(1, 32), (32, 128)])
    func interTokenLatencyGrowsWithBatchSize(small: Int, large: Int) {
        func itl(_ batch: Int) -> Double {
            Calibration.measure(
                .interTokenLatency(batch: batch, prompt: 1024, output: 64), profile: ProfileCatalog.llama31_8B_H100)
        }
        #expect(itl(small) < itl(large))
    }

    @Test func aFullCacheMakesRequestsWaitAndPreempts() {
        // 40 blocks of 16 tokens: eight 64-token prompts fit, but their outputs need more than what is left.
        let configuration = Self.configuration { $0.numGPUBlocks = 40 }
        var core = EngineCore(configuration: configuration)
        for i in 0..<8 { _ = core.add(Self.request(i, prompt: 64, output: 100), now: 0) }
        var now = 1.0
        var sawWaiting = false
        var finished = 0
        while finished < 8 {
            guard case .step(let plan) = core.schedule(now: now) else { Issue.record("engine stalled"); return }
            if core.waitingCount > 0 { sawWaiting = true }
            #expect(core.kvCacheUsage <= 1)
            now = plan.end
            finished += core.complete(plan, now: now).filter { $0.event.finishReason != nil }.count
        }
        #expect(core.statistics.preemptions > 0)
        #expect(sawWaiting)
        #expect(core.kvCacheUsage == 0)
    }

    @Test func aNonResidentAdapterWaitsForASlot() {
        // One LoRA slot: the second adapter waits until the first adapter's requests are done, then loads.
        let configuration = Self.configuration { $0.maxLoras = 1 }
        var core = EngineCore(configuration: configuration)
        let a = core.add(Self.request(1, prompt: 32, output: 50, adapter: "a"), now: 0)
        let b = core.add(Self.request(2, prompt: 32, output: 5, adapter: "b"), now: 0)
        var now = 0.0
        var firstToken: [UInt64: Double] = [:]
        var finished: [UInt64: Double] = [:]
        var sawWaitingAdapter = false
        while finished.count < 2 {
            switch core.schedule(now: now) {
            case .step(let plan):
                if core.waitingAdapters.contains("b") && core.runningAdapters == ["a"] { sawWaitingAdapter = true }
                now = plan.end
                for (id, event) in core.complete(plan, now: now) {
                    if firstToken[id] == nil { firstToken[id] = event.time }
                    if event.finishReason != nil { finished[id] = event.time }
                }
            case .idle(let until):
                now = until ?? now + 0.001
            }
        }
        #expect(sawWaitingAdapter)
        #expect(firstToken[b]! >= finished[a]! + configuration.profile.loraLoadSeconds - 1e-9)
    }

    @Test func abortFreesBlocksAtOnce() {
        var core = EngineCore(configuration: Self.configuration())
        let id = core.add(Self.request(1, prompt: 2048, output: 100), now: 0)
        guard case .step(let plan) = core.schedule(now: 1) else { Issue.record("no step"); return }
        _ = core.complete(plan, now: plan.end)
        #expect(core.kvCacheUsage > 0)
        core.abort(id)
        #expect(core.kvCacheUsage == 0)
        #expect(core.runningCount == 0)
    }

    @Test func blockPoolReusesFreedBlocksLeastRecentlyUsedFirst() {
        var pool = KVBlockPool(numBlocks: 4, blockSize: 16, prefixCaching: true)
        let a = pool.allocate(2)!
        pool.register(a[0], hash: 1)
        pool.register(a[1], hash: 2)
        pool.release(a)
        #expect(pool.freeCount == 4)
        #expect(pool.cachedPrefixLength([1, 2]) == 2)
        // Two fresh blocks come from the never-used ones before the cached ones are evicted.
        _ = pool.allocate(2)!
        #expect(pool.cachedPrefixLength([1, 2]) == 2)
        // The next allocation evicts the tail block of the freed prompt (hash 2) before its head (hash 1).
        _ = pool.allocate(1)!
        #expect(pool.cachedPrefixLength([1, 2]) == 1)
        #expect(pool.allocate(2) == nil)
    }

    @Test func profilesDeriveTheirCacheFromMemory() {
        let p = ProfileCatalog.llama31_8B_H100
        #expect(p.kvBytesPerToken == 131_072)
        #expect(ProfileCatalog.llama31_70B_H100_TP4.kvBytesPerToken == 327_680)
        let blocks = p.numGPUBlocks(blockSize: 16)
        #expect(blocks > 20_000 && blocks < 35_000)
        #expect(Set(ProfileCatalog.names).count == ProfileCatalog.all.count)
    }
}
