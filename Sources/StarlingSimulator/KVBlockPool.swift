/// A paged KV cache of fixed-size blocks with automatic prefix caching, as vLLM's block pool works.
///
/// A block is *in use* while a sequence references it. A freed block keeps its content (and its prefix hash) and
/// joins the tail of the free queue; allocation takes from the head, so the least recently freed cached block is
/// the first to be overwritten (LRU). A request whose prompt starts with cached blocks takes them back from the
/// free queue instead of recomputing them.
public struct KVBlockPool: Sendable {
    public let numBlocks: Int
    public let blockSize: Int
    public let prefixCachingEnabled: Bool

    private var referenceCount: [Int32]
    private var blockHash: [UInt64?]
    private var cached: [UInt64: Int] = [:]
    // Doubly linked free queue over block ids; -1 is the end.
    private var next: [Int]
    private var previous: [Int]
    private var head = -1
    private var tail = -1
    public private(set) var freeCount: Int

    public init(numBlocks: Int, blockSize: Int, prefixCaching: Bool) {
        precondition(numBlocks >= 0 && blockSize > 0)
        self.numBlocks = numBlocks
        self.blockSize = blockSize
        self.prefixCachingEnabled = prefixCaching
        referenceCount = Array(repeating: 0, count: numBlocks)
        blockHash = Array(repeating: nil, count: numBlocks)
        next = Array(repeating: -1, count: numBlocks)
        previous = Array(repeating: -1, count: numBlocks)
        freeCount = 0
        for block in 0..<numBlocks { pushBack(block) }
    }

    /// Blocks referenced by at least one sequence.
    public var usedCount: Int { numBlocks - freeCount }

    /// Share of blocks in use, 0...1 (vLLM's `kv_cache_usage_perc`).
    public var usage: Double { numBlocks == 0 ? 0 : Double(usedCount) / Double(numBlocks) }

    /// Blocks needed to hold `tokens` tokens.
    public func blocks(forTokens tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// How many leading blocks of `hashes` are cached (in use or free).
    public func cachedPrefixLength(_ hashes: [UInt64]) -> Int {
        guard prefixCachingEnabled else { return 0 }
        var n = 0
        for hash in hashes {
            guard cached[hash] != nil else { break }
            n += 1
        }
        return n
    }

    /// Takes references on the first `count` cached blocks of `hashes` (see `cachedPrefixLength`).
    public mutating func acquireCached(_ hashes: ArraySlice<UInt64>) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(hashes.count)
        for hash in hashes {
            guard let block = cached[hash] else { preconditionFailure("block is not cached") }
            if referenceCount[block] == 0 { unlink(block) }
            referenceCount[block] += 1
            result.append(block)
        }
        return result
    }

    /// Blocks that `acquireCached` would take out of the free queue.
    public func freeBlocksAmong(_ hashes: ArraySlice<UInt64>) -> Int {
        hashes.reduce(0) { n, hash in n + (cached[hash].map { referenceCount[$0] == 0 ? 1 : 0 } ?? 0) }
    }

    /// `count` fresh blocks, or nil (and nothing taken) if fewer are free.
    public mutating func allocate(_ count: Int) -> [Int]? {
        guard count <= freeCount else { return nil }
        var result: [Int] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let block = head
            unlink(block)
            if let hash = blockHash[block] {
                if cached[hash] == block { cached[hash] = nil }
                blockHash[block] = nil
            }
            referenceCount[block] = 1
            result.append(block)
        }
        return result
    }

    /// Records that `block` now holds the full block whose prefix hash is `hash`, so later prompts can reuse it.
    public mutating func register(_ block: Int, hash: UInt64) {
        guard prefixCachingEnabled, blockHash[block] == nil else { return }
        if cached[hash] == nil {
            cached[hash] = block
            blockHash[block] = hash
        }
    }

    /// Drops one reference on each block; blocks nobody references join the free queue, the last block of a
    /// sequence first so that a prompt's tail is evicted before its shared head.
    public mutating func release(_ blocks: [Int]) {
        for block in blocks.reversed() {
            referenceCount[block] -= 1
            precondition(referenceCount[block] >= 0, "block released twice")
            if referenceCount[block] == 0 {
                if prefixCachingEnabled, blockHash[block] != nil {
                    pushBack(block)
                } else {
                    blockHash[block] = nil
                    pushFront(block)
                }
            }
        }
    }

    /// Forgets every cached hash (vLLM's reset_prefix_cache); blocks in use stay.
    public mutating func resetPrefixCache() {
        cached.removeAll()
        for block in 0..<numBlocks where referenceCount[block] == 0 { blockHash[block] = nil }
    }

    private mutating func pushBack(_ block: Int) {
        next[block] = -1
        previous[block] = tail
        if tail >= 0 { next[tail] = block } else { head = block }
        tail = block
        freeCount += 1
    }

    private mutating func pushFront(_ block: Int) {
        previous[block] = -1
        next[block] = head
        if head >= 0 { previous[head] = block } else { tail = block }
        head = block
        freeCount += 1
    }

    private mutating func unlink(_ block: Int) {
        let p = previous[block]
        let n = next[block]
        if p >= 0 { next[p] = n } else { head = n }
        if n >= 0 { previous[n] = p } else { tail = p }
        next[block] = -1
        previous[block] = -1
        freeCount -= 1
    }
}
