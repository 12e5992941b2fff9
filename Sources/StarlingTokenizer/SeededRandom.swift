import Foundation

/// SeededRandom: a small, fast generator that gives the same sequence on every platform for a seed. The simulator's
/// responses and the benchmark's arrivals and prompts are reproducible with it.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    public mutating func unit() -> Double { (Double(next() >> 11) + 1) / 9_007_199_254_740_992.0 }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        sqrt(-2 * log(unit())) * cos(2 * Double.pi * unit())
    }

    /// Exponential with the given rate.
    public mutating func exponential(rate: Double) -> Double { -log(unit()) / rate }

    /// One of `choices`, each drawn with the chance its weight gives (weights summing to 1); the first when a draw
    /// falls past them.
    public mutating func pick<T>(_ choices: [(T, Double)]) -> T {
        var draw = unit()
        for (choice, weight) in choices {
            if draw < weight { return choice }
            draw -= weight
        }
        return choices[0].0
    }
}
