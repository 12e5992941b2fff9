import StarlingTokenizer

/// One stage of load: `rate` requests per second for `duration` seconds.
public struct LoadStage: Sendable, Equatable, Codable {
    public var rate: Double
    public var duration: Double

    public init(rate: Double, duration: Double) {
        self.rate = rate
        self.duration = duration
    }
}

/// How arrivals are spaced within a stage.
public enum ArrivalProcess: String, Sendable, Codable, CaseIterable {
    /// Evenly spaced, 1/rate apart.
    case constant
    /// Exponential gaps with mean 1/rate (a Poisson process).
    case poisson
}

/// The send times of an open-loop run, computed before the run starts so that a slow server cannot slow the
/// load down (no coordinated omission): a request is due at its time whether or not earlier ones have answered.
public struct ArrivalSchedule: Sendable, Equatable {
    /// One planned request.
    public struct Arrival: Sendable, Equatable {
        /// Seconds since the run's start.
        public var time: Double
        /// Index of the stage it belongs to.
        public var stage: Int
    }

    public var arrivals: [Arrival]
    /// Each stage's start, seconds since the run's start.
    public var stageStarts: [Double]
    public var totalDuration: Double

    /// Plans `stages` back to back. Poisson gaps carry over stage boundaries the way a rate change does: the
    /// first arrival of a stage is drawn from that stage's start at its own rate.
    public init(stages: [LoadStage], process: ArrivalProcess, seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var arrivals: [Arrival] = []
        var starts: [Double] = []
        var start = 0.0
        for (index, stage) in stages.enumerated() {
            starts.append(start)
            let end = start + stage.duration
            if stage.rate > 0 {
                var t = start
                switch process {
                case .constant:
                    let gap = 1 / stage.rate
                    var k = 0.0
                    while true {
                        t = start + k * gap
                        if t >= end { break }
                        arrivals.append(Arrival(time: t, stage: index))
                        k += 1
                    }
                case .poisson:
                    while true {
                        t += random.exponential(rate: stage.rate)
                        if t >= end { break }
                        arrivals.append(Arrival(time: t, stage: index))
                    }
                }
            }
            start = end
        }
        self.arrivals = arrivals
        self.stageStarts = starts
        self.totalDuration = start
    }
}
