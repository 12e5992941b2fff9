import StarlingTokenizer
import Testing

@testable import StarlingBench

@Suite struct ArrivalScheduleTests {
    @Test func constantArrivalsAreEvenlySpacedPerStage() {
        let schedule = ArrivalSchedule(
            stages: [LoadStage(rate: 10, duration: 1), LoadStage(rate: 2, duration: 2)], process: .constant, seed: 1)
        #expect(schedule.arrivals.count == 10 + 4)
        #expect(schedule.arrivals.prefix(10).allSatisfy { $0.stage == 0 })
        #expect(abs(schedule.arrivals[1].time - 0.1) < 1e-9)
        #expect(abs(schedule.arrivals[11].time - 1.5) < 1e-9)
        #expect(schedule.stageStarts == [0, 1])
        #expect(schedule.totalDuration == 3)
    }

    @Test func poissonArrivalsHaveTheAskedRateAndAreReproducible() {
        let stages = [LoadStage(rate: 200, duration: 50)]
        let a = ArrivalSchedule(stages: stages, process: .poisson, seed: 7)
        #expect(a == ArrivalSchedule(stages: stages, process: .poisson, seed: 7))
        #expect(a != ArrivalSchedule(stages: stages, process: .poisson, seed: 8))
        let rate = Double(a.arrivals.count) / 50
        #expect(abs(rate - 200) / 200 < 0.03, "rate \(rate)")
        // Exponential gaps: the coefficient of variation is about 1 (constant spacing would give 0).
        let gaps = zip(a.arrivals.dropFirst(), a.arrivals).map { $0.time - $1.time }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let sd = (gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)).squareRoot()
        #expect(abs(sd / mean - 1) < 0.05, "cv \(sd / mean)")
        #expect(zip(a.arrivals.dropFirst(), a.arrivals).allSatisfy { $0.time >= $1.time })
    }
}

@Suite struct LengthDistributionTests {
    @Test(arguments: [
        LengthDistribution.fixed(128),
        .uniform(min: 10, max: 20),
        .normal(mean: 200, stddev: 50, min: 100, max: 300),
        .lognormal(median: 161, sigma: 0.8, min: 4, max: 2048),
    ])
    func drawsStayWithinTheClamps(distribution: LengthDistribution) {
        var random = SeededRandom(seed: 3)
        let draws = (0..<5000).map { _ in distribution.sample(&random) }
        let (low, high): (Int, Int)
        switch distribution {
        case .fixed(let n): (low, high) = (n, n)
        case .uniform(let a, let b), .normal(_, _, let a, let b), .lognormal(_, _, let a, let b): (low, high) = (a, b)
        }
        #expect(draws.allSatisfy { $0 >= low && $0 <= high })
    }

    @Test func momentsMatchTheParameters() {
        var random = SeededRandom(seed: 11)
        let normal = (0..<20000).map { _ in
            Double(LengthDistribution.normal(mean: 500, stddev: 50, min: 1, max: 10000).sample(&random))
        }
        #expect(abs(normal.reduce(0, +) / 20000 - 500) < 3)
        let lognormal = (0..<20000).map { _ in
            LengthDistribution.lognormal(median: 161, sigma: 1, min: 1, max: 1_000_000).sample(&random)
        }.sorted()
        #expect(abs(Double(lognormal[10000]) - 161) < 8)
        let uniform = (0..<20000).map { _ in LengthDistribution.uniform(min: 1, max: 4).sample(&random) }
        #expect(Set(uniform) == [1, 2, 3, 4])
    }

    @Test(arguments: [
        (LengthDistribution.fixed(0), "data.input.value: must be at least 1, got 0"),
        (.uniform(min: 10, max: 5), "data.input.max: must be at least min (10), got 5"),
        (.normal(mean: -1, stddev: 1, min: 1, max: 2), "data.input.mean: must be positive, got -1.0"),
        (.lognormal(median: 10, sigma: -1, min: 1, max: 2), "data.input.sigma: must not be negative, got -1.0"),
    ])
    func badParametersNameTheField(distribution: LengthDistribution, expected: String) {
        #expect(distribution.validate(path: "data.input").contains(expected))
    }
}

@Suite struct RequestTimingTests {
    /// Sent at 1.0; tokens at 1.5 (one), 1.6 (two in one chunk), 1.9 (one); done at 2.0.
    let timing = RequestTiming(
        scheduled: 0.9, sent: 1.0,
        chunks: [
            .init(time: 1.2, tokens: 0), .init(time: 1.5, tokens: 1), .init(time: 1.6, tokens: 2),
            .init(time: 1.9, tokens: 1),
        ],
        end: 2.0)

    @Test func metricsFollowInferencePerfDefinitions() throws {
        #expect(abs(try #require(timing.timeToFirstToken) - 0.5) < 1e-9)  // first non-empty chunk
        #expect(abs(try #require(timing.timePerOutputToken) - 0.4 / 3) < 1e-9)
        #expect(abs(try #require(timing.normalizedTimePerOutputToken) - 0.25) < 1e-9)
        #expect(abs(try #require(timing.endToEndLatency) - 1.0) < 1e-9)
        #expect(abs(timing.sendLag - 0.1) < 1e-9)
        #expect(timing.outputTokens == 4)
        let gaps = timing.interTokenGaps
        #expect(gaps.count == 3)
        #expect(abs(gaps[0] - 0.1) < 1e-9 && gaps[1] == 0 && abs(gaps[2] - 0.3) < 1e-9)
    }

    @Test func goodputNeedsEveryBoundMetAndAFinishedRequest() {
        #expect(ServiceLevelObjective(timeToFirstToken: 0.6, timePerOutputToken: 0.2).isMet(by: timing))
        #expect(!ServiceLevelObjective(timeToFirstToken: 0.4).isMet(by: timing))
        #expect(!ServiceLevelObjective(timePerOutputToken: 0.1).isMet(by: timing))
        var unfinished = timing
        unfinished.end = nil
        #expect(!ServiceLevelObjective().isMet(by: unfinished))
    }
}
