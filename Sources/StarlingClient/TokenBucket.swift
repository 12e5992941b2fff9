/// A token bucket, as client-go's client-side rate limiter: `qps` tokens a second, holding at most `burst`. Each
/// request takes a token, reserving one ahead when none is left; the answer is how long it must wait. Pure: time
/// comes in as a duration since any fixed origin.
public struct TokenBucket: Sendable, Equatable {
    /// Tokens added a second.
    public let qps: Double
    /// The most tokens held, so the most requests sent at once after a quiet spell.
    public let burst: Int
    /// Tokens now; below zero when requests have reserved tokens not yet added.
    private(set) var tokens: Double
    private var last: Duration

    /// A full bucket at time `now`.
    public init(qps: Double, burst: Int, now: Duration = .zero) {
        self.qps = qps
        self.burst = burst
        self.tokens = Double(burst)
        self.last = now
    }

    /// Takes a token at `now`: the wait before the request may go (zero when a token was there).
    ///
    /// tokens(now) = min(burst, tokens(last) + qps × (now − last)); then one is taken, and a negative balance b
    /// means a wait of −b / qps.
    public mutating func take(now: Duration) -> Duration {
        if now > last {
            tokens = min(Double(burst), tokens + qps * Self.seconds(now - last))
            last = now
        }
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .nanoseconds(Int64((-tokens / qps * 1e9).rounded(.up)))
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
