import Synchronization

/// Bytes reserved against a shared cap (request bodies held in memory by all connections of a server).
public final class ByteBudget: Sendable {
    public let limit: Int
    private let used = Atomic<Int>(0)

    public init(limit: Int) { self.limit = limit }

    /// Reserves `bytes` if they fit under the limit.
    public func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back what `reserve` took.
    public func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.subtract(bytes, ordering: .relaxed)
    }

    /// Bytes reserved now.
    public var inUse: Int { used.load(ordering: .relaxed) }
}

/// Connections open now against a cap.
public final class ConnectionCounter: Sendable {
    public let limit: Int
    private let open = Atomic<Int>(0)

    public init(limit: Int) { self.limit = limit }

    /// Counts a new connection; false (and not counted) when the cap is reached.
    public func admit() -> Bool {
        if open.add(1, ordering: .relaxed).newValue <= limit { return true }
        open.subtract(1, ordering: .relaxed)
        return false
    }

    /// Uncounts a connection `admit` counted.
    public func leave() { open.subtract(1, ordering: .relaxed) }

    public var count: Int { open.load(ordering: .relaxed) }
}
