/// Which endpoint the gateway sent which prompt blocks to, learned from its own routing decisions: an
/// approximation of each model server's prefix cache. Bounded: holds at most `capacity` (block, endpoint)
/// pairs and forgets the least recently sent first, as the servers' caches evict.
///
/// Block hashes are chained (`PrefixBlockHasher`), so a match of block `i` implies the whole prefix up to it;
/// the match length for an endpoint is the run of leading blocks it holds.
public struct PrefixIndex: Sendable {
    struct Key: Hashable {
        var hash: UInt64
        var endpoint: UInt32
    }

    public let capacity: Int
    private var slots: [Key: Int32] = [:]
    private var keys: [Key] = []
    private var previous: [Int32] = []
    private var next: [Int32] = []
    /// Most and least recently used slots (-1 when empty).
    private var head: Int32 = -1
    private var tail: Int32 = -1
    private var endpointNumbers: [String: UInt32] = [:]

    public init(capacity: Int) {
        precondition(capacity > 0, "prefix index capacity must be positive")
        self.capacity = capacity
    }

    /// (block, endpoint) pairs held.
    public var count: Int { slots.count }

    /// For each endpoint, how many of `hashes`' leading blocks it was sent.
    public func matches(_ hashes: [UInt64], endpoints: [String]) -> [String: Int] {
        var result: [String: Int] = [:]
        guard !hashes.isEmpty else { return result }
        for endpoint in endpoints {
            guard let number = endpointNumbers[endpoint] else { continue }
            var length = 0
            while length < hashes.count, slots[Key(hash: hashes[length], endpoint: number)] != nil { length += 1 }
            if length > 0 { result[endpoint] = length }
        }
        return result
    }

    /// Records that `hashes` were sent to `endpoint`; they become the most recently used.
    public mutating func record(_ hashes: [UInt64], endpoint: String) {
        let number = self.number(of: endpoint)
        for hash in hashes { touch(Key(hash: hash, endpoint: number)) }
    }

    private mutating func number(of endpoint: String) -> UInt32 {
        if let number = endpointNumbers[endpoint] { return number }
        let number = UInt32(endpointNumbers.count)
        endpointNumbers[endpoint] = number
        return number
    }

    private mutating func touch(_ key: Key) {
        if let slot = slots[key] {
            guard slot != head else { return }
            unlink(slot)
            pushFront(slot)
            return
        }
        let slot: Int32
        if keys.count < capacity {
            slot = Int32(keys.count)
            keys.append(key)
            previous.append(-1)
            next.append(-1)
        } else {
            slot = tail
            unlink(slot)
            slots[keys[Int(slot)]] = nil
            keys[Int(slot)] = key
        }
        slots[key] = slot
        pushFront(slot)
    }

    private mutating func unlink(_ slot: Int32) {
        let p = previous[Int(slot)]
        let n = next[Int(slot)]
        if p >= 0 { next[Int(p)] = n } else { head = n }
        if n >= 0 { previous[Int(n)] = p } else { tail = p }
        previous[Int(slot)] = -1
        next[Int(slot)] = -1
    }

    private mutating func pushFront(_ slot: Int32) {
        next[Int(slot)] = head
        previous[Int(slot)] = -1
        if head >= 0 { previous[Int(head)] = slot }
        head = slot
        if tail < 0 { tail = slot }
    }
}
