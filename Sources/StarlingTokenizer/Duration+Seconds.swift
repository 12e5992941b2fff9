extension Duration {
    /// The duration in seconds as a Double (timings in the simulator and the bench).
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
