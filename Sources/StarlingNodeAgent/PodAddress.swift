/// Each pod's own loopback address. Pods under the node agent share the host's network namespace, so instead of
/// each getting a loopback port of its own (which no standard field can report), each gets an address of its own
/// in 127.0.0.0/8 — all of which Linux routes to the loopback interface — and serves its declared `containerPort`
/// there, reported as `status.podIP`, as on a real cluster.
enum PodAddress {
    /// A random address outside 127.0.0.0/24 (where Starling's own servers listen) on which `port` is free now,
    /// skipping `used`; nil after 64 tries. Random, so that several agents on one machine (tests, or `starling up`
    /// next to `starling agent`) do not hand out the same address: 16 million candidates.
    static func pick(port: Int, avoiding used: Set<String>) -> String? {
        for _ in 0..<64 {
            let address =
                "127.\(UInt8.random(in: 1...254)).\(UInt8.random(in: 0...255)).\(UInt8.random(in: 1...254))"
            if used.contains(address) { continue }
            if LocalPort.bindError(host: address, port: port) == nil { return address }
        }
        return nil
    }

    /// Whether `address` is one the agent could have given (an earlier run's, kept across restarts).
    static func isPodLoopback(_ address: String?) -> Bool {
        guard let address, address.hasPrefix("127."), !address.hasPrefix("127.0.0.") else { return false }
        return address.split(separator: ".").count == 4
    }
}
