import StarlingAPI
import StarlingTestSupport
import Testing

@testable import StarlingClient

/// The client-side rate limiter's decision: how long each request waits.
@Suite struct TokenBucketTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var qps: Double
        var burst: Int
        /// When each request comes, in milliseconds.
        var arrivals: [Int]
        /// How long each waits, in milliseconds.
        var waits: [Int]
    }

    static let cases: [Case] = [
        .init(
            testDescription: "a burst goes at once, then one every 1/qps", qps: 10, burst: 3,
            arrivals: [0, 0, 0, 0, 0],
            waits: [0, 0, 0, 100, 200]),
        .init(
            testDescription: "requests spaced at the rate never wait", qps: 10, burst: 1, arrivals: [0, 100, 200, 300],
            waits: [0, 0, 0, 0]),
        .init(
            testDescription: "a quiet spell refills up to the burst, no further", qps: 10, burst: 2,
            arrivals: [0, 0, 5000, 5000, 5000], waits: [0, 0, 0, 0, 100]),
        .init(
            testDescription: "reservations queue behind each other", qps: 2, burst: 1, arrivals: [0, 0, 0, 250],
            waits: [0, 500, 1000, 1250]),
    ]

    @Test(arguments: cases) func waits(_ c: Case) {
        var bucket = TokenBucket(qps: c.qps, burst: c.burst)
        let waits = c.arrivals.map { bucket.take(now: .milliseconds($0)) }
        #expect(waits == c.waits.map { Duration.milliseconds($0) })
    }
}

/// A client with a rate limit paces its requests to a real API server (a lower bound only: never faster).
@Suite struct RateLimitedClientTests {
    @Test func requestsBeyondTheBurstWaitForTheirTokens() async throws {
        let connection = try await TestBackend.embedded.connect()
        defer { connection.stop() }
        let client = try KubeClient(config: connection.client.config, rateLimit: RateLimit(qps: 20, burst: 1))
        let start = ContinuousClock.now
        for _ in 0..<6 { _ = try await client.list(Pod.self, namespace: connection.namespace) }
        #expect(ContinuousClock.now - start >= .milliseconds(250), "5 requests past the burst at 20 a second")
    }
}
