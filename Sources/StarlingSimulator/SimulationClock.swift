import StarlingTokenizer

/// Maps wall-clock time to simulated time: simulated seconds run `timeScale` times faster than real ones.
public struct SimulationClock: Sendable {
    public let timeScale: Double
    public let origin: ContinuousClock.Instant

    public init(timeScale: Double, origin: ContinuousClock.Instant = .now) {
        precondition(timeScale > 0, "time scale must be positive")
        self.timeScale = timeScale
        self.origin = origin
    }

    /// Simulated seconds since the origin.
    public var now: Double { simulated(ContinuousClock.now) }

    public func simulated(_ instant: ContinuousClock.Instant) -> Double {
        (instant - origin).seconds * timeScale
    }

    /// The wall-clock instant at simulated time `seconds`.
    public func instant(at seconds: Double) -> ContinuousClock.Instant {
        origin + .seconds(seconds / timeScale)
    }
}
