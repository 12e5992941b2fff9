import StarlingTokenizer
import Testing

@testable import StarlingGateway

@Suite struct PrefixIndexTests {
    @Test func matchLengthIsTheRunOfLeadingBlocks() {
        var index = PrefixIndex(capacity: 100)
        index.record([1, 2, 3, 4], endpoint: "a")
        index.record([1, 2, 9], endpoint: "b")
        #expect(index.matches([1, 2, 3, 5], endpoints: ["a", "b", "c"]) == ["a": 3, "b": 2])
        #expect(index.matches([7, 2, 3], endpoints: ["a", "b"]) == [:])
    }

    @Test func forgetsTheLeastRecentlySentFirst() {
        var index = PrefixIndex(capacity: 4)
        index.record([1, 2], endpoint: "a")
        index.record([10, 11], endpoint: "b")
        index.record([1], endpoint: "a")  // touch: 2 is now the oldest
        index.record([20], endpoint: "c")
        #expect(index.count == 4)
        #expect(index.matches([1, 2], endpoints: ["a"]) == ["a": 1])
        #expect(index.matches([10, 11], endpoints: ["b"]) == ["b": 2])
        #expect(index.matches([20], endpoints: ["c"]) == ["c": 1])
    }

    @Test func chainedHashesOfSharedPrefixesMatch() {
        let tokenizer = Tokenizer()
        let hasher = PrefixBlockHasher(blockSize: 4)
        let shared = String(repeating: "the same system prompt for everyone ", count: 4)
        let one = hasher.blockHashes(tokens: tokenizer.encode(shared + "first question here"), model: "m")
        let two = hasher.blockHashes(tokens: tokenizer.encode(shared + "another one entirely"), model: "m")
        var index = PrefixIndex(capacity: 1000)
        index.record(one, endpoint: "a")
        let matched = index.matches(two, endpoints: ["a"])["a"] ?? 0
        #expect(matched >= tokenizer.encode(shared).count / 4 - 1)
        #expect(matched < two.count)
    }
}

@Suite struct SaturationAndAdmissionTests {
    @Test(arguments: [
        ([endpoint("a", running: 8, waiting: 5, kv: 0.1)], true),
        ([endpoint("a", running: 8, waiting: 4, kv: 0.1)], false),
        // Sent since a scrape that showed a queue: queued too; finished since: each let one in.
        ([endpoint("a", running: 8, waiting: 4, kv: 0.1, inFlight: 1, atScrape: 0)], true),
        ([endpoint("a", running: 8, waiting: 7, kv: 0.1, inFlight: 7, atScrape: 10)], false),
        // Sent since a scrape that showed no queue: presumed admitted.
        ([endpoint("a", running: 8, waiting: 0, kv: 0.1, inFlight: 20, atScrape: 0)], false),
        ([endpoint("a", running: 8, waiting: 0, kv: 0.8)], true),
        ([endpoint("a", running: 8, waiting: 9, kv: 0.1), endpoint("b", waiting: 0, kv: 0.2)], false),
        ([endpoint("a", inFlight: 4, scraped: false)], false),
        ([endpoint("a", inFlight: 5, scraped: false)], true),
        // A queue in one or two scrapes only is requests between engine steps; one in three is a queue.
        ([endpoint("a", running: 0, waiting: 11, kv: 0.1, earlierWaiting: [6, 0])], false),
        ([endpoint("a", running: 8, waiting: 11, kv: 0.1, earlierWaiting: [0, 6])], false),
        ([endpoint("a", running: 8, waiting: 11, kv: 0.1, earlierWaiting: [7, 6])], true),
        ([endpoint("a", running: 8, waiting: 2, kv: 0.1, earlierWaiting: [7, 6])], false),
    ])
    func saturation(_ endpoints: [EndpointSnapshot], _ saturated: Bool) {
        #expect(SaturationDetector().isSaturated(endpoints) == saturated)
    }

    @Test(arguments: [
        (Criticality.critical, false, [Criticality: Int](), Admission.dispatch),
        (.sheddable, false, [:], .dispatch),
        (.sheddable, true, [:], .reject("the pool is saturated and the request is sheddable")),
        (.standard, true, [:], .enqueue),
        (.critical, true, [.critical: 2], .enqueue),
        (.critical, true, [.critical: 3], .reject("the pool is saturated and 3 Critical requests are already waiting")),
        // Waiting requests keep their turn even when room appears; lower ones do not block higher ones.
        (.standard, false, [.standard: 1], .enqueue),
        (.critical, false, [.standard: 4], .dispatch),
    ])
    func admission(_ criticality: Criticality, _ saturated: Bool, _ waiting: [Criticality: Int], _ expected: Admission)
    {
        let policy = AdmissionPolicy(queueLimits: [.critical: 3, .standard: 5])
        #expect(policy.admit(criticality, saturated: saturated, waiting: waiting) == expected)
    }

    @Test func criticalityFromPriority() {
        #expect(Criticality(priority: 5) == .critical)
        #expect(Criticality(priority: 0) == .standard)
        #expect(Criticality(priority: -1) == .sheddable)
        #expect(Criticality(name: "Default") == .standard)
        #expect(Criticality(name: "critical") == nil)
        #expect(Criticality.critical > .standard && Criticality.standard > .sheddable)
    }
}

@Suite struct PoolStateTests {
    static let t0 = ContinuousClock.now

    func pool(policy: RoutingPolicy = .leastQueue, configure: (inout PoolSettings) -> Void = { _ in }) -> PoolState {
        var settings = PoolSettings(name: "p", profile: policy.profile())
        settings.seed = 1
        settings.queueTimeout = .seconds(5)
        settings.noEndpointWait = .seconds(2)
        configure(&settings)
        var state = PoolState(settings: settings)
        state.setEndpoints(["a:1": "http://a:1", "b:1": "http://b:1"])
        return state
    }

    /// The endpoint an outcome leased, if it is a lease.
    func leased(_ outcome: PoolState.Outcome) -> String? {
        guard case .lease(let lease) = outcome else { return nil }
        return lease.endpoint
    }

    func scrape(_ state: inout PoolState, _ id: String, waiting: Double, running: Double = 0, at: Duration = .zero) {
        var metrics = EndpointMetrics()
        metrics.waiting = waiting
        metrics.running = running
        metrics.kvCacheUsage = 0.1
        state.recordScrape(id, metrics, at: Self.t0 + at)
    }

    @Test func dispatchCountsInFlightUntilReleased() {
        var state = pool()
        scrape(&state, "a:1", waiting: 0)
        scrape(&state, "b:1", waiting: 0)
        guard case .lease(let first) = state.request(.init(model: "m"), id: 1, now: Self.t0) else {
            Issue.record("no lease")
            return
        }
        // The first request counts against its endpoint before the next scrape: the second goes elsewhere.
        guard case .lease(let second) = state.request(.init(model: "m"), id: 2, now: Self.t0) else {
            Issue.record("no lease")
            return
        }
        #expect(first.endpoint != second.endpoint)
        #expect(state.endpoints[first.endpoint]?.inFlight == 1)
        state.release(first)
        #expect(state.endpoints[first.endpoint]?.inFlight == 0)
    }

    @Test func uncachedPromptTokensCountAsPendingUntilTheFirstTokenOrRelease() {
        var state = pool(policy: .default)
        scrape(&state, "a:1", waiting: 0)
        scrape(&state, "b:1", waiting: 0)
        let ask = PoolState.Ask(model: "m", hashes: [1, 2, 3], promptTokens: 50, blockSize: 16)
        guard case .lease(let first) = state.request(ask, id: 1, now: Self.t0) else {
            Issue.record("no lease")
            return
        }
        #expect(first.prefillTokens == 50)
        #expect(state.endpoints[first.endpoint]?.pendingPrefill == 50)
        state.prefillDone(first)
        #expect(state.endpoints[first.endpoint]?.pendingPrefill == 0)
        // The same prompt again: its three blocks are cached where the first went, so two tokens are left.
        guard case .lease(let second) = state.request(ask, id: 2, now: Self.t0) else {
            Issue.record("no lease")
            return
        }
        #expect(second.endpoint == first.endpoint)
        #expect(second.prefillTokens == 2)
        state.release(first)
        state.prefillDone(first)
        #expect(state.endpoints[second.endpoint]?.pendingPrefill == 2, "done and released once each: no change")
        state.release(second)
        #expect(state.endpoints[second.endpoint]?.pendingPrefill == 0, "a release clears what the first token did not")
        #expect(state.endpoints[second.endpoint]?.inFlight == 0)
    }

    @Test func saturatedPoolShedsSheddableAndQueuesCriticalUntilRoom() {
        var state = pool()
        scrape(&state, "a:1", waiting: 6)
        scrape(&state, "b:1", waiting: 9)
        #expect(
            state.request(.init(model: "m", criticality: .sheddable), id: 1, now: Self.t0)
                == .fail(.shed("the pool is saturated and the request is sheddable")))
        #expect(state.request(.init(model: "m", criticality: .standard), id: 2, now: Self.t0) == .wait)
        #expect(state.request(.init(model: "m", criticality: .critical), id: 3, now: Self.t0) == .wait)
        #expect(state.serveWaiting(now: Self.t0 + .milliseconds(10)).isEmpty)
        scrape(&state, "a:1", waiting: 3, at: .milliseconds(50))
        let served = state.serveWaiting(now: Self.t0 + .milliseconds(60))
        // Critical first; a:1 takes both (3 + 1 + 1 = 5 reaches the threshold only after the second).
        #expect(served.map(\.id) == [3, 2])
        #expect(served.allSatisfy { if case .lease(let l) = $0.outcome { l.endpoint == "a:1" } else { false } })
        #expect(!state.hasWaiting)
    }

    @Test func saturationNeedsAQueueInThreeScrapesInARowAndEndsWithOneThatShowsRoom() {
        var state = pool { $0.staleAfter = .milliseconds(200) }
        for (ms, waiting, saturated) in [
            (0, 0.0, false), (50, 9, false), (100, 8, false), (150, 6, true), (200, 3, false),
        ] {
            scrape(&state, "a:1", waiting: waiting, at: .milliseconds(ms))
            scrape(&state, "b:1", waiting: 7, at: .milliseconds(ms))
            #expect(state.isSaturated(model: "m", now: Self.t0 + .milliseconds(ms + 1)) == saturated, "at \(ms) ms")
        }
        // After a gap longer than staleAfter, the history starts afresh: one scrape is all there is.
        scrape(&state, "a:1", waiting: 9, at: .milliseconds(500))
        scrape(&state, "b:1", waiting: 7, at: .milliseconds(500))
        #expect(state.isSaturated(model: "m", now: Self.t0 + .milliseconds(501)))
    }

    @Test func aStaleScrapeCountsAsUnknown() {
        var state = pool { $0.staleAfter = .milliseconds(200) }
        scrape(&state, "a:1", waiting: 9)
        scrape(&state, "b:1", waiting: 9)
        #expect(state.isSaturated(model: "m", now: Self.t0 + .milliseconds(200)))
        // Past staleAfter the queues are unknown; the gateway's own in-flight count (zero) stands in.
        #expect(!state.isSaturated(model: "m", now: Self.t0 + .milliseconds(201)))
        #expect(state.candidates(for: .init(model: "m"), now: Self.t0 + .seconds(1)).allSatisfy { $0.metrics == nil })
    }

    @Test func waitersTimeOut() {
        var state = pool()
        scrape(&state, "a:1", waiting: 6)
        scrape(&state, "b:1", waiting: 9)
        #expect(state.request(.init(model: "m"), id: 1, now: Self.t0) == .wait)
        scrape(&state, "a:1", waiting: 6, at: .milliseconds(5950))
        scrape(&state, "b:1", waiting: 9, at: .milliseconds(5950))
        let served = state.serveWaiting(now: Self.t0 + .seconds(6))
        #expect(served.count == 1 && served[0].outcome == .fail(.queueTimeout(.seconds(5))))
    }

    @Test func requestsWaitForAnEndpointThenFail() {
        var state = pool()
        state.setEndpoints([:])
        #expect(state.endpoints.isEmpty)
        #expect(state.request(.init(model: "m"), id: 1, now: Self.t0) == .wait)
        #expect(state.request(.init(model: "m"), id: 2, now: Self.t0) == .wait)
        state.setEndpoints(["c:1": "http://c:1"])
        scrape(&state, "c:1", waiting: 0, at: .seconds(1))
        let served = state.serveWaiting(now: Self.t0 + .seconds(1))
        #expect(served.map(\.id) == [1, 2])
        state.setEndpoints([:])
        #expect(state.request(.init(model: "m"), id: 3, now: Self.t0 + .seconds(2)) == .wait)
        let failed = state.serveWaiting(now: Self.t0 + .seconds(5))
        #expect(failed.map(\.id) == [3])
        guard case .fail(.noEndpoint(let message)) = failed[0].outcome else {
            Issue.record("expected noEndpoint")
            return
        }
        #expect(message.contains("no ready endpoint serves `m`"))
    }

    @Test func heldRequestsAreBoundedAndCountInTheLoad() {
        var state = pool()
        state.setEndpoints([:])
        state.setHolding(timeout: .seconds(600), maxHeld: 2)
        #expect(state.request(.init(model: "m"), id: 1, now: Self.t0) == .wait)
        #expect(state.request(.init(model: "m"), id: 2, now: Self.t0) == .wait)
        guard case .fail(.shed(let reason)) = state.request(.init(model: "m"), id: 3, now: Self.t0) else {
            Issue.record("expected a 429 past the bound")
            return
        }
        #expect(reason.contains("already holds 2 requests for `m`"))
        #expect(state.load.held == 2 && state.load.lastActivityAt == Self.t0)
        // The hold timeout is the pool's: nothing fails before it.
        #expect(state.serveWaiting(now: Self.t0 + .seconds(599)).isEmpty)
        #expect(state.serveWaiting(now: Self.t0 + .seconds(600)).map(\.id) == [1, 2])
    }

    @Test func drainingEndpointsFinishButTakeNothingNew() {
        var state = pool(policy: .roundRobin)
        guard case .lease(let lease) = state.request(.init(model: "m"), id: 1, now: Self.t0) else {
            Issue.record("no lease")
            return
        }
        state.drain(lease.endpoint)
        #expect(state.endpoints[lease.endpoint]?.draining == true)
        for id in 2..<6 {
            guard case .lease(let other) = state.request(.init(model: "m"), id: UInt64(id), now: Self.t0) else {
                Issue.record("no lease")
                return
            }
            #expect(other.endpoint != lease.endpoint)
        }
        state.release(lease)
        #expect(state.endpoints[lease.endpoint] == nil)
    }

    @Test func retriesSkipTriedEndpointsAndAdmission() {
        var state = pool()
        scrape(&state, "a:1", waiting: 9)
        scrape(&state, "b:1", waiting: 9)
        let retry = PoolState.Ask(model: "m", criticality: .sheddable, exclude: ["a:1"], isRetry: true)
        #expect(leased(state.request(retry, id: 1, now: Self.t0)) == "b:1")
        let none = PoolState.Ask(model: "m", exclude: ["a:1", "b:1"], isRetry: true)
        guard case .fail(.noEndpoint) = state.request(none, id: 2, now: Self.t0) else {
            Issue.record("expected noEndpoint")
            return
        }
    }

    @Test func unhealthyEndpointsAreSkippedUntilAGoodScrape() {
        var state = pool(policy: .roundRobin)
        state.recordConnectionFailure("a:1")
        for id in 1...4 {
            #expect(
                leased(state.request(.init(model: "m"), id: UInt64(id), now: Self.t0))
                    == "b:1")
        }
        for _ in 0..<3 { state.recordScrapeFailure("b:1") }
        #expect(state.endpoints["b:1"]?.healthy == false)
        scrape(&state, "a:1", waiting: 0)
        #expect(
            leased(state.request(.init(model: "m"), id: 9, now: Self.t0))
                == "a:1")
    }

    @Test func onlyEndpointsListingTheModelServeIt() {
        var state = pool(policy: .roundRobin)
        state.recordModels("a:1", [ServedModel(id: "base"), ServedModel(id: "sql", parent: "base")])
        state.recordModels("b:1", [ServedModel(id: "base")])
        #expect(state.mayServe("sql") && state.mayServe("base") && !state.mayServe("other"))
        #expect(state.adapter("sql") == "sql" && state.adapter("base") == nil)
        for id in 1...3 {
            #expect(
                leased(state.request(.init(model: "sql"), id: UInt64(id), now: Self.t0))
                    == "a:1")
        }
    }

    @Test func prefixPolicySendsARepeatedPrefixToTheSameEndpoint() {
        var state = pool(policy: .prefix)
        let groupA: [UInt64] = [11, 12, 13]
        let groupB: [UInt64] = [21, 22, 23]
        var homes: [UInt64: String] = [:]
        for round in 0..<5 {
            for group in [groupA, groupB] {
                guard
                    case .lease(let lease) = state.request(
                        .init(model: "m", hashes: group + [UInt64(100 + round)]), id: 1, now: Self.t0)
                else {
                    Issue.record("no lease")
                    return
                }
                if let home = homes[group[0]] {
                    #expect(lease.endpoint == home)
                } else {
                    homes[group[0]] = lease.endpoint
                }
                state.release(lease)
            }
        }
    }

    @Test func sessionsStickToTheirEndpoint() {
        var state = pool(policy: .default)
        var seen: [String: String] = [:]
        for i in 0..<12 {
            let session = "s\(i % 3)"
            guard
                case .lease(let lease) = state.request(.init(model: "m", session: session), id: UInt64(i), now: Self.t0)
            else {
                Issue.record("no lease")
                return
            }
            if let first = seen[session] { #expect(lease.endpoint == first) } else { seen[session] = lease.endpoint }
            state.release(lease)
        }
    }

    @Test func blockSizeComesFromTheEndpoints() {
        var state = pool()
        #expect(state.blockSize == 16)
        var metrics = EndpointMetrics()
        metrics.blockSize = 32
        state.recordScrape("b:1", metrics, at: Self.t0)
        #expect(state.blockSize == 32)
    }
}

@Suite struct SessionTableTests {
    @Test func forgetsTheOldestBeyondCapacity() {
        var table = SessionTable(capacity: 2)
        table.record("a", endpoint: "1")
        table.record("b", endpoint: "2")
        table.record("a", endpoint: "3")
        table.record("c", endpoint: "4")
        #expect(table["a"] == nil && table["b"] == "2" && table["c"] == "4")
    }
}
