import Testing

@testable import StarlingGateway

/// Small builders for endpoint snapshots.
func endpoint(
    _ id: String, running: Double? = nil, waiting: Double? = nil, kv: Double? = nil, inFlight: Int = 0,
    atScrape: Int = 0, runningAdapters: Set<String>? = nil, waitingAdapters: Set<String>? = nil, maxLoras: Int? = nil,
    scraped: Bool = true, pendingPrefill: Int = 0, earlierWaiting: [Double] = []
) -> EndpointSnapshot {
    var metrics = EndpointMetrics()
    metrics.running = running
    metrics.waiting = waiting
    metrics.kvCacheUsage = kv
    metrics.runningAdapters = runningAdapters
    metrics.waitingAdapters = waitingAdapters
    metrics.maxLoras = maxLoras
    return EndpointSnapshot(
        id: id, metrics: scraped ? metrics : nil, inFlight: inFlight, inFlightAtScrape: atScrape,
        pendingPrefillTokens: pendingPrefill, earlierWaiting: earlierWaiting)
}

@Suite struct ScorersTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var endpoints: [EndpointSnapshot]
        var request = RoutingRequest(model: "m")
        var expected: [Double]
        var testDescription: String { name }
    }

    @Test(arguments: [
        Case(
            name: "shortest queue scores 1, the others less by their excess over the longest",
            endpoints: [
                endpoint("a", running: 2, waiting: 0), endpoint("b", running: 4, waiting: 2),
                endpoint("c", running: 3, waiting: 0),
            ], expected: [1, 1 - 4.0 / 6, 1 - 1.0 / 6]),
        Case(
            name: "a few requests' difference between busy endpoints counts for little",
            endpoints: [endpoint("a", running: 33), endpoint("b", running: 30), endpoint("c", running: 90)],
            expected: [1 - 3.0 / 90, 1, 1 - 60.0 / 90]),
        Case(
            name: "requests sent since the scrape count",
            endpoints: [
                endpoint("a", running: 1, waiting: 0, inFlight: 3, atScrape: 0),
                endpoint("b", running: 2, waiting: 0),
            ], expected: [0.5, 1]),
        Case(
            name: "no scrape: the gateway's in-flight count",
            endpoints: [
                endpoint("a", inFlight: 2, scraped: false),
                endpoint("b", inFlight: 0, scraped: false),
            ], expected: [0, 1]),
        Case(
            name: "equal queues all score 1", endpoints: [endpoint("a", running: 1), endpoint("b", running: 1)],
            expected: [1, 1]),
    ])
    func queue(_ c: Case) {
        #expect(QueueScorer().scores(c.request, c.endpoints) == c.expected)
    }

    @Test(arguments: [
        Case(
            name: "free cache", endpoints: [endpoint("a", kv: 0.25), endpoint("b", kv: 1), endpoint("c")],
            expected: [0.75, 0, 0.5])
    ])
    func kvCache(_ c: Case) {
        #expect(KVCacheScorer().scores(c.request, c.endpoints) == c.expected)
    }

    /// A 2,100-token prompt whose first 2,000 tokens (125 blocks of 16) endpoint "a" was sent before.
    static let sharedPrefix = RoutingRequest(
        model: "m", blockCount: 131, promptTokens: 2_100, blockSize: 16, prefixMatches: ["a": 125])

    @Test(arguments: [
        Case(
            name: "a prefix hit is worth the prefill it saves", endpoints: [endpoint("a"), endpoint("b")],
            request: sharedPrefix, expected: [1, 1 - 2_000.0 / 2_100]),
        Case(
            name: "queued prompt work at the prefix's endpoint counts against it",
            endpoints: [endpoint("a", pendingPrefill: 2_500), endpoint("b")], request: sharedPrefix,
            expected: [1 - 500.0 / 2_100, 1]),
        Case(
            name: "no shared prefix: least queued prompt work, scaled by the spread when it is wider than the prompt",
            endpoints: [
                endpoint("a", pendingPrefill: 1_000), endpoint("b"), endpoint("c", pendingPrefill: 4_000),
            ], request: RoutingRequest(model: "m", promptTokens: 500), expected: [0.75, 1, 0]),
        Case(
            name: "a few tokens' difference counts for little",
            endpoints: [endpoint("a", pendingPrefill: 21), endpoint("b")],
            request: RoutingRequest(model: "m", promptTokens: 2_100), expected: [1 - 21.0 / 2_100, 1]),
        Case(
            name: "prompt not tokenized and nothing queued: all equal", endpoints: [endpoint("a"), endpoint("b")],
            expected: [1, 1]),
        Case(
            name: "a request the scrape shows waiting beyond the gateway's own counts as one more prompt like this one",
            endpoints: [
                endpoint("a", waiting: 3, inFlight: 2, atScrape: 2), endpoint("b", waiting: 0, pendingPrefill: 300),
            ],
            request: RoutingRequest(model: "m", promptTokens: 500), expected: [1 - 200.0 / 500, 1]),
    ])
    func prefillLoad(_ c: Case) {
        #expect(PrefillLoadScorer().scores(c.request, c.endpoints) == c.expected)
    }

    @Test(arguments: [
        (pending: 0, queueAtHome: 4.0, expected: "a"), (pending: 2_500, queueAtHome: 4.0, expected: "a"),
        (pending: 5_000, queueAtHome: 4.0, expected: "b"),
    ])
    func defaultLeavesAPrefixsEndpointOnlyWhenWaitingThereCostsMoreThanAFullPrefill(
        pending: Int, queueAtHome: Double, expected: String
    ) {
        let endpoints = [
            endpoint("a", running: queueAtHome, waiting: 0, kv: 0.9, pendingPrefill: pending),
            endpoint("b", running: 0, waiting: 0, kv: 0.1),
        ]
        var state = PickState(seed: 1)
        let pick = RoutingPolicy.default.profile().pick(Self.sharedPrefix, from: endpoints, state: &state)
        #expect(pick.map { endpoints[$0].id } == expected)
    }

    @Test(arguments: [
        Case(
            name: "share of the prompt's blocks", endpoints: [endpoint("a"), endpoint("b"), endpoint("c")],
            request: RoutingRequest(model: "m", blockCount: 4, prefixMatches: ["a": 4, "b": 1]), expected: [1, 0.25, 0]),
        Case(
            name: "prompt shorter than a block", endpoints: [endpoint("a")],
            request: RoutingRequest(model: "m", blockCount: 0, prefixMatches: ["a": 3]), expected: [0]),
    ])
    func prefix(_ c: Case) {
        #expect(PrefixScorer().scores(c.request, c.endpoints) == c.expected)
    }

    @Test(arguments: [
        Case(
            name: "running 1, free slot 0.8, queued 0.6, none 0, unknown 0.5",
            endpoints: [
                endpoint("running", runningAdapters: ["sql"], waitingAdapters: [], maxLoras: 1),
                endpoint("slot", runningAdapters: ["chat"], waitingAdapters: [], maxLoras: 2),
                endpoint("queued", runningAdapters: ["chat"], waitingAdapters: ["sql"], maxLoras: 1),
                endpoint("full", runningAdapters: ["chat"], waitingAdapters: [], maxLoras: 1),
                endpoint("unknown"),
            ], request: RoutingRequest(model: "sql", adapter: "sql"), expected: [1, 0.8, 0.6, 0, 0.5]),
        Case(
            name: "base model requests are indifferent",
            endpoints: [endpoint("a", runningAdapters: ["x"], maxLoras: 1)],
            expected: [1]),
    ])
    func lora(_ c: Case) {
        #expect(LoRAAffinityScorer().scores(c.request, c.endpoints) == c.expected)
    }

    @Test func session() {
        let request = RoutingRequest(model: "m", sessionEndpoint: "b")
        #expect(SessionAffinityScorer().scores(request, [endpoint("a"), endpoint("b")]) == [0, 1])
        #expect(SessionAffinityScorer().scores(RoutingRequest(model: "m"), [endpoint("a")]) == [0])
    }
}

@Suite struct FiltersTests {
    @Test func leastQueueKeepsEndpointsWithinTheSlack() {
        let endpoints = [endpoint("a", running: 1), endpoint("b", running: 3), endpoint("c", running: 6)]
        #expect(LeastQueueFilter(slack: 2).filter(RoutingRequest(model: "m"), endpoints) == [0, 1])
        #expect(LeastQueueFilter(slack: 0).filter(RoutingRequest(model: "m"), endpoints) == [0])
    }

    @Test func kvCacheDropsFullEndpoints() {
        let endpoints = [endpoint("a", kv: 0.95), endpoint("b", kv: 0.5), endpoint("c")]
        #expect(KVCacheFilter(threshold: 0.9).filter(RoutingRequest(model: "m"), endpoints) == [1, 2])
    }

    @Test func loraAffinityKeepsEndpointsThatCanRunTheAdapterAtOnce() {
        let endpoints = [
            endpoint("busy", runningAdapters: ["chat"], waitingAdapters: [], maxLoras: 1),
            endpoint("running", runningAdapters: ["sql"], waitingAdapters: [], maxLoras: 1),
            endpoint("free", runningAdapters: [], waitingAdapters: [], maxLoras: 1),
        ]
        #expect(LoRAAffinityFilter().filter(RoutingRequest(model: "sql", adapter: "sql"), endpoints) == [1, 2])
        #expect(LoRAAffinityFilter().filter(RoutingRequest(model: "base"), endpoints) == [0, 1, 2])
    }

    @Test func aFilterThatWouldLeaveNoneIsIgnored() {
        let profile = SchedulingProfile(
            name: "t", filters: [KVCacheFilter(threshold: 0.5)], scorers: [.init(QueueScorer(), weight: 1)])
        var state = PickState(seed: 1)
        let endpoints = [endpoint("a", running: 5, kv: 0.9), endpoint("b", running: 1, kv: 0.9)]
        #expect(profile.pick(RoutingRequest(model: "m"), from: endpoints, state: &state) == 1)
    }
}

@Suite struct PickersTests {
    @Test func maxScoreBreaksTiesAtRandom() {
        var state = PickState(seed: 7)
        var counts = [0, 0, 0]
        for _ in 0..<300 { counts[MaxScorePicker().pick([1, 0.5, 1], [], state: &state)] += 1 }
        #expect(counts[1] == 0)
        #expect(counts[0] > 100 && counts[2] > 100)
        #expect(MaxScorePicker().pick([0.1, 0.9, 0.3], [], state: &state) == 1)
    }

    @Test func powerOfTwoNeverPicksTheWorstOfMany() {
        var state = PickState(seed: 3)
        let scores = [0.0, 0.2, 0.4, 0.6, 1.0]
        var counts = [Int](repeating: 0, count: scores.count)
        for _ in 0..<1000 { counts[PowerOfTwoPicker().pick(scores, [], state: &state)] += 1 }
        #expect(counts[0] == 0)
        // The best wins every pair it is drawn into: 4 of the 10 pairs.
        #expect(counts[4] > 300 && counts[4] < 500)
        #expect(PowerOfTwoPicker().pick([0.3], [], state: &state) == 0)
    }

    @Test func roundRobinGoesInIDOrder() {
        var state = PickState(seed: 0)
        let endpoints = [endpoint("c"), endpoint("a"), endpoint("b")]
        let picks = (0..<6).map { _ in endpoints[RoundRobinPicker().pick([0, 0, 0], endpoints, state: &state)].id }
        #expect(picks == ["a", "b", "c", "a", "b", "c"])
    }

    @Test func randomCoversEveryEndpoint() {
        var state = PickState(seed: 11)
        let endpoints = [endpoint("a"), endpoint("b"), endpoint("c")]
        let seen = Set((0..<100).map { _ in RandomPicker().pick([0, 0, 0], endpoints, state: &state) })
        #expect(seen == [0, 1, 2])
    }
}

@Suite struct PoliciesTests {
    @Test(arguments: RoutingPolicy.allCases)
    func everyPolicyPicksAnEndpoint(_ policy: RoutingPolicy) {
        var state = PickState(seed: 5)
        let endpoints = [endpoint("a", running: 3, kv: 0.5), endpoint("b", running: 0, kv: 0.1)]
        let pick = policy.profile().pick(RoutingRequest(model: "m"), from: endpoints, state: &state)
        #expect(pick != nil)
        #expect(policy.profile().pick(RoutingRequest(model: "m"), from: [], state: &state) == nil)
    }

    @Test func defaultProfileTradesAffinityAgainstLoad() {
        var state = PickState(seed: 5)
        let profile = RoutingPolicy.default.profile()
        let request = RoutingRequest(model: "m", blockCount: 10, promptTokens: 160, prefixMatches: ["a": 10])
        // Cached and about as busy: affinity wins.
        let similar = [endpoint("a", running: 3, waiting: 0, kv: 0.3), endpoint("b", running: 2, waiting: 0, kv: 0.3)]
        #expect(profile.pick(request, from: similar, state: &state) == 0)
        // Cached but swamped, with a full cache: load wins.
        let swamped = [
            endpoint("a", running: 40, waiting: 30, kv: 0.99), endpoint("b", running: 2, waiting: 0, kv: 0.1),
        ]
        #expect(profile.pick(request, from: swamped, state: &state) == 1)
    }
}
