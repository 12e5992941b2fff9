/// Hashes of full blocks of prompt tokens, chained so that a block's hash names its whole prefix: two prompts
/// share block `i`'s hash only if they share every token up to the end of block `i` (and the model or adapter
/// name). The simulator's prefix cache and the gateway's prefix index use the same hashes.
public struct PrefixBlockHasher: Sendable, Equatable {
    /// Tokens per block (vLLM's default KV block size).
    public let blockSize: Int

    public init(blockSize: Int = 16) {
        precondition(blockSize > 0, "block size must be positive")
        self.blockSize = blockSize
    }

    /// One hash per full block of `tokens`; the first block is chained to a hash of `model`.
    public func blockHashes(tokens: [UInt32], model: String) -> [UInt64] {
        let blocks = tokens.count / blockSize
        guard blocks > 0 else { return [] }
        var hashes: [UInt64] = []
        hashes.reserveCapacity(blocks)
        var parent = XXHash64.hash(Array(model.utf8))
        var buffer = [UInt8](repeating: 0, count: 8 + 4 * blockSize)
        for block in 0..<blocks {
            buffer.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: parent.littleEndian, toByteOffset: 0, as: UInt64.self)
                for i in 0..<blockSize {
                    raw.storeBytes(
                        of: tokens[block * blockSize + i].littleEndian, toByteOffset: 8 + 4 * i, as: UInt32.self)
                }
            }
            parent = buffer.withUnsafeBytes { XXHash64.hash($0) }
            hashes.append(parent)
        }
        return hashes
    }
}
