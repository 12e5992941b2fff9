/// What happens to a request when it arrives: sent on, held at the gateway until an endpoint has room, or shed.
public enum Admission: Sendable, Equatable {
    case dispatch
    case enqueue
    /// Shed with 429; the reason goes into the error message.
    case reject(String)
}

/// Admission under load, per criticality. While the pool has room and nothing of the same or higher
/// criticality is already waiting, requests go straight on (waiting ones keep their turn). Under saturation,
/// sheddable requests are rejected and the others wait in a bounded queue per criticality.
public struct AdmissionPolicy: Sendable, Equatable {
    /// Longest queue per criticality (sheddable requests never wait).
    public var queueLimits: [Criticality: Int]

    public init(queueLimits: [Criticality: Int] = [.critical: 1000, .standard: 500, .sheddable: 0]) {
        self.queueLimits = queueLimits
    }

    /// - Parameters:
    ///   - saturated: the pool's saturation now.
    ///   - waiting: requests queued at the gateway per criticality.
    public func admit(_ criticality: Criticality, saturated: Bool, waiting: [Criticality: Int]) -> Admission {
        let ahead = Criticality.allCases.filter { $0 >= criticality }.reduce(0) { $0 + (waiting[$1] ?? 0) }
        if !saturated && ahead == 0 { return .dispatch }
        if criticality == .sheddable { return .reject("the pool is saturated and the request is sheddable") }
        let limit = queueLimits[criticality] ?? 0
        if (waiting[criticality] ?? 0) >= limit {
            return .reject("the pool is saturated and \(limit) \(criticality.rawValue) requests are already waiting")
        }
        return .enqueue
    }
}
