/// Batch sizes for creating many objects: 1, 2, 4, … as Kubernetes' `slowStartBatch` does, so that a spec that
/// cannot work (a bad image, a quota it exceeds) fails after one create instead of hundreds.
public enum SlowStart {
    /// The sizes of successive batches covering `total` items, starting at `initial` and doubling:
    /// batch k holds min(initial × 2^k, what is left).
    public static func batches(total: Int, initial: Int = 1) -> [Int] {
        var sizes: [Int] = []
        var left = max(0, total)
        var next = max(1, initial)
        while left > 0 {
            let size = min(next, left)
            sizes.append(size)
            left -= size
            next = next > Int.max / 2 ? Int.max : next * 2
        }
        return sizes
    }
}
