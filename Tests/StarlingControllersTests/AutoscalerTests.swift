import StarlingAPI
import Testing

@testable import StarlingControllers

/// The autoscaler's decision, table-driven: each case is a spec and a timeline of evaluations, each with the
/// replica count at the time, the signals, and the count the autoscaler must want.
@Suite struct AutoscalerTests {
    struct Step: Sendable {
        var second: Int
        var current: Int
        var signals: AutoscaleSignals
        var desired: Int
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var spec: AutoscalingSpec
        var steps: [Step]
    }

    static func spec(
        _ metric: AutoscalingMetric = .queue, target: Double = 3, min: Int? = nil, max: Int = 8,
        up: ScalingBehavior? = nil, down: ScalingBehavior? = nil, toZeroAfter: Int? = nil
    ) -> AutoscalingSpec {
        var spec = AutoscalingSpec(minReplicas: min, maxReplicas: max, metric: metric, target: target)
        spec.scaleUp = up
        spec.scaleDown = down
        spec.scaleToZeroAfterSeconds = toZeroAfter
        return spec
    }

    /// `n` Ready replicas with the same load.
    static func ready(
        _ n: Int, waiting: Double = 0, running: Double = 0, kv: Double = 0, starting: Int = 0, held: Int = 0,
        idle: Int? = nil
    ) -> AutoscaleSignals {
        AutoscaleSignals(
            ready: Array(repeating: .init(waiting: waiting, running: running, kvCache: kv), count: n),
            starting: starting, held: held, idleFor: idle.map { .seconds($0) })
    }

    /// `signals` with the gateways' cumulative arrivals and completions.
    static func counted(_ signals: AutoscaleSignals, _ arrivals: Int, _ completions: Int) -> AutoscaleSignals {
        var counted = signals
        counted.arrivals = arrivals
        counted.completions = completions
        return counted
    }

    static let cases: [Case] = [
        .init(
            testDescription: "a queue step adds the replicas its excess needs, at once",
            spec: spec(),
            steps: [.init(second: 0, current: 2, signals: ready(2, waiting: 10, running: 8, kv: 0.9), desired: 7)]),
        .init(
            testDescription: "starting replicas count as capacity: no new scale-up each second while they load",
            spec: spec(),
            steps: [
                .init(second: 0, current: 2, signals: ready(2, waiting: 10, running: 8, kv: 0.9), desired: 7),
                .init(
                    second: 1, current: 7, signals: ready(2, waiting: 10, running: 8, kv: 0.9, starting: 5),
                    desired: 7),
                .init(
                    second: 2, current: 7, signals: ready(2, waiting: 11, running: 8, kv: 0.9, starting: 5),
                    desired: 7),
            ]),
        .init(
            testDescription: "a dip shorter than the scale-down window removes nothing",
            spec: spec(),
            steps: [
                .init(second: 0, current: 4, signals: ready(4, waiting: 2, running: 8, kv: 0.8), desired: 4),
                .init(second: 10, current: 4, signals: ready(4, running: 2, kv: 0.1), desired: 4),
                .init(second: 20, current: 4, signals: ready(4, waiting: 2, running: 8, kv: 0.8), desired: 4),
            ]),
        .init(
            testDescription: "a lull longer than the window scales down to what the KV cache needs",
            spec: spec(),
            steps: [
                .init(second: 0, current: 4, signals: ready(4, waiting: 2, running: 8, kv: 0.8), desired: 4),
                .init(second: 10, current: 4, signals: ready(4, running: 2, kv: 0.2), desired: 4),
                .init(second: 31, current: 4, signals: ready(4, running: 2, kv: 0.2), desired: 2),
            ]),
        .init(
            testDescription: "a replica seen full teaches its batch slots: a lull keeps enough for what runs",
            spec: spec(down: ScalingBehavior(stabilizationWindowSeconds: 0)),
            steps: [
                .init(second: 0, current: 8, signals: ready(8, waiting: 1, running: 2, kv: 0.01), desired: 8),
                // 6 running over 2-request slots at most 70% full: 5 replicas, though the KV cache would allow 1.
                .init(second: 1, current: 8, signals: ready(8, running: 0.75, kv: 0.01), desired: 5),
            ]),
        .init(
            testDescription:
                "a stray waiting request does not hold the count: the queue and the slots ask for their share",
            spec: spec(down: ScalingBehavior(stabilizationWindowSeconds: 0)),
            steps: [
                .init(
                    second: 0, current: 8,
                    signals: AutoscaleSignals(
                        ready: [.init(waiting: 1, running: 2, kvCache: 0.05)]
                            + Array(repeating: .init(running: 0.25, kvCache: 0.02), count: 7)),
                    // 3.75 running over 2-request slots at most 70% full: 3 replicas.
                    desired: 3)
            ]),
        .init(
            testDescription: "a step in arrivals scales up within a second, once a replica's throughput is known",
            spec: spec(),
            steps: [
                .init(second: 0, current: 5, signals: counted(ready(5, waiting: 1, running: 2), 0, 0), desired: 5),
                // All five full, finishing 42 a second (8.4 a replica) while 30 arrive.
                .init(second: 1, current: 5, signals: counted(ready(5, waiting: 1, running: 2), 30, 42), desired: 5),
                .init(second: 2, current: 5, signals: counted(ready(5, running: 1), 42, 54), desired: 5),
                // 48 a second, a queue forming: 48 / (8.4 × 0.85) = 6.7, before the queue reaches its target.
                .init(second: 3, current: 5, signals: counted(ready(5, waiting: 0.4, running: 2), 90, 96), desired: 7),
            ]),
        .init(
            testDescription: "a second of high arrivals with no queue forming adds nothing",
            spec: spec(),
            steps: [
                .init(second: 0, current: 3, signals: counted(ready(3, waiting: 1, running: 2), 0, 0), desired: 3),
                .init(second: 1, current: 3, signals: counted(ready(3, waiting: 1, running: 2), 25, 30), desired: 3),
                .init(second: 2, current: 3, signals: counted(ready(3, running: 1), 65, 60), desired: 3),
            ]),
        .init(
            testDescription: "flapping input: the count holds at the window's highest need",
            spec: spec(),
            steps: [
                .init(second: 0, current: 3, signals: ready(3, running: 6, kv: 0.6), desired: 3),
                .init(second: 5, current: 3, signals: ready(3, running: 1, kv: 0.1), desired: 3),
                .init(second: 10, current: 3, signals: ready(3, running: 6, kv: 0.6), desired: 3),
                .init(second: 15, current: 3, signals: ready(3, running: 1, kv: 0.1), desired: 3),
            ]),
        .init(
            testDescription: "maxReplicas caps a step",
            spec: spec(max: 4),
            steps: [.init(second: 0, current: 2, signals: ready(2, waiting: 30), desired: 4)]),
        .init(
            testDescription: "a scale-up policy limits the change per period, the most permissive applying",
            spec: spec(
                up: ScalingBehavior(policies: [
                    ScalingPolicy(type: .replicas, value: 1, periodSeconds: 60),
                    ScalingPolicy(type: .percent, value: 50, periodSeconds: 60),
                ])),
            steps: [
                .init(second: 0, current: 2, signals: ready(2, waiting: 30), desired: 3),
                .init(second: 30, current: 3, signals: ready(3, waiting: 30), desired: 3),
                .init(second: 61, current: 3, signals: ready(3, waiting: 30), desired: 5),
            ]),
        .init(
            testDescription: "a scale-up window waits for the need to last",
            spec: spec(up: ScalingBehavior(stabilizationWindowSeconds: 10)),
            steps: [
                .init(second: 0, current: 2, signals: ready(2, waiting: 1, running: 4, kv: 0.5), desired: 2),
                .init(second: 5, current: 2, signals: ready(2, waiting: 10, running: 4, kv: 0.5), desired: 2),
                .init(second: 11, current: 2, signals: ready(2, waiting: 10, running: 4, kv: 0.5), desired: 7),
            ]),
        .init(
            testDescription: "from zero, a held request brings one replica at once, despite a scale-up window",
            spec: spec(min: 0, up: ScalingBehavior(stabilizationWindowSeconds: 60)),
            steps: [
                .init(second: 0, current: 0, signals: ready(0, idle: 1000), desired: 0),
                .init(second: 1, current: 0, signals: ready(0, held: 1), desired: 1),
            ]),
        .init(
            testDescription: "to zero only after scaleToZeroAfterSeconds without a request",
            spec: spec(min: 0, toZeroAfter: 60),
            steps: [
                .init(second: 0, current: 1, signals: ready(1, idle: 30), desired: 1),
                .init(second: 40, current: 1, signals: ready(1, idle: 70), desired: 0),
            ]),
        .init(
            testDescription: "a service at zero with no request stays there, idle long or not",
            spec: spec(min: 0, toZeroAfter: 300),
            steps: [
                .init(second: 0, current: 0, signals: ready(0, idle: 1), desired: 0),
                .init(second: 1, current: 0, signals: ready(0), desired: 0),
            ]),
        .init(
            testDescription: "minReplicas 1 keeps one however idle",
            spec: spec(toZeroAfter: 1),
            steps: [.init(second: 0, current: 1, signals: ready(1, idle: 1000), desired: 1)]),
        .init(
            testDescription: "kvCache: the usage total over the target",
            spec: spec(.kvCache, target: 0.6),
            steps: [.init(second: 0, current: 2, signals: ready(2, running: 10, kv: 0.9), desired: 3)]),
        .init(
            testDescription: "concurrency: running, waiting and held over the target",
            spec: spec(.concurrency, target: 5),
            steps: [.init(second: 0, current: 2, signals: ready(2, waiting: 2, running: 8, held: 4), desired: 5)]),
        .init(
            testDescription: "within 10% of the target the count stays",
            spec: spec(.concurrency, target: 5),
            steps: [.init(second: 0, current: 4, signals: ready(4, running: 5.4), desired: 4)]),
        .init(
            testDescription: "a scale-down policy removes at most its share per period",
            spec: spec(
                down: ScalingBehavior(
                    stabilizationWindowSeconds: 0,
                    policies: [ScalingPolicy(type: .percent, value: 50, periodSeconds: 30)])),
            steps: [
                .init(second: 0, current: 8, signals: ready(8), desired: 4),
                .init(second: 10, current: 4, signals: ready(4), desired: 4),
                .init(second: 31, current: 4, signals: ready(4), desired: 2),
            ]),
    ]

    @Test(arguments: cases) func decides(_ c: Case) {
        var autoscaler = Autoscaler()
        for step in c.steps {
            let decision = autoscaler.decide(
                c.spec, current: step.current, signals: step.signals, now: .seconds(step.second))
            #expect(decision.desired == step.desired, "at \(step.second)s: \(decision.reason)")
        }
    }

    @Test func reasonsSayTheMetricAndTheTarget() {
        var autoscaler = Autoscaler()
        let up = autoscaler.decide(
            Self.spec(), current: 2, signals: Self.ready(2, waiting: 7.2), now: .zero)
        #expect(up.reason == "queue 7.2 per replica > target 3" && up.value == 7.2)
    }
}

/// The HorizontalPodAutoscaler's algorithm, the benchmark's baseline, table-driven like Starling's.
@Suite struct HPAAlgorithmTests {
    static let spec = Autoscaler.hpaBehavior(AutoscalerTests.spec(min: 0, max: 8))

    static let cases: [AutoscalerTests.Case] = [
        .init(
            testDescription: "a step: ratio × pods, limited to max(100%, 4 pods) per 15 s", spec: spec,
            steps: [
                .init(second: 0, current: 2, signals: AutoscalerTests.ready(2, waiting: 10), desired: 6),
                .init(second: 15, current: 6, signals: AutoscalerTests.ready(6, waiting: 10), desired: 8),
            ]),
        .init(
            testDescription: "within 10% of the target nothing changes", spec: spec,
            steps: [.init(second: 0, current: 2, signals: AutoscalerTests.ready(2, waiting: 3.2), desired: 2)]),
        .init(
            testDescription: "pods not Ready count as idle when scaling up", spec: spec,
            steps: [
                .init(second: 0, current: 6, signals: AutoscalerTests.ready(2, waiting: 4, starting: 4), desired: 6)
            ]),
        .init(
            testDescription: "scale-down waits out the 300 s window, and never below one", spec: spec,
            steps: [
                .init(second: 0, current: 6, signals: AutoscalerTests.ready(6, waiting: 3), desired: 6),
                .init(second: 15, current: 6, signals: AutoscalerTests.ready(6), desired: 6),
                .init(second: 290, current: 6, signals: AutoscalerTests.ready(6, idle: 280), desired: 6),
                .init(second: 301, current: 6, signals: AutoscalerTests.ready(6, idle: 290), desired: 1),
            ]),
        .init(
            testDescription: "held requests are not seen, and an HPA keeps at least one replica", spec: spec,
            steps: [.init(second: 0, current: 0, signals: AutoscalerTests.ready(0, held: 5), desired: 1)]),
    ]

    @Test(arguments: cases) func decides(_ c: AutoscalerTests.Case) {
        var autoscaler = Autoscaler(algorithm: .hpa)
        for step in c.steps {
            let decision = autoscaler.decide(
                c.spec, current: step.current, signals: step.signals, now: .seconds(step.second))
            #expect(decision.desired == step.desired, "at \(step.second)s: \(decision.reason)")
        }
    }
}
