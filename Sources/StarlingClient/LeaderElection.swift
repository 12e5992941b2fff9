import Foundation
import StarlingAPI

/// How long a lease lasts and how often it is renewed, with client-go's defaults (as kube-controller-manager and
/// kube-scheduler use them).
public struct LeaderElectionTiming: Sendable, Equatable {
    /// How long a standby waits, after it last saw the lease change, before taking it over.
    public var leaseDuration: Duration
    /// How long the leader keeps trying to renew before it gives up leading.
    public var renewDeadline: Duration
    /// How often candidates try to acquire and the leader renews.
    public var retryPeriod: Duration

    public init(
        leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
        retryPeriod: Duration = .seconds(2)
    ) {
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// Field errors, as client-go checks them: leaseDuration > renewDeadline > retryPeriod × 1.2 (its jitter).
    public var errors: [String] {
        var errors: [String] = []
        if !(leaseDuration > renewDeadline) { errors.append("leaseDuration must be greater than renewDeadline") }
        if !(renewDeadline > retryPeriod * 1.2) { errors.append("renewDeadline must be greater than retryPeriod*1.2") }
        if retryPeriod <= .zero { errors.append("retryPeriod must be greater than zero") }
        return errors
    }
}

/// The decision core of Lease-based leader election, with client-go's semantics and no I/O: it is told what the
/// Lease holds and when, and says what to write. Expiry is judged on the local monotonic clock from when this
/// candidate last saw the lease record change, never by comparing another process's wall-clock `renewTime`.
public struct LeaderElection: Sendable {
    /// What to do after reading the Lease.
    public enum Decision: Sendable, Equatable {
        /// No Lease exists: create it holding it.
        case create(LeaseSpec)
        /// Write this record (renewing, or taking over an expired or released lease) with the read resourceVersion.
        case update(LeaseSpec)
        /// Another candidate holds an unexpired lease.
        case follow(holder: String)
    }

    public let identity: String
    public let timing: LeaderElectionTiming
    /// The record last read, and the monotonic time it last changed.
    public private(set) var observed: LeaseSpec?
    public private(set) var observedAt: ContinuousClock.Instant?

    public init(identity: String, timing: LeaderElectionTiming = LeaderElectionTiming()) {
        self.identity = identity
        self.timing = timing
    }

    /// Whether the last record read names this candidate.
    public var isLeader: Bool { observed?.holderIdentity == identity }

    /// Takes in the Lease as read (nil when there is none) at `now`.
    public mutating func observe(_ record: LeaseSpec?, now: ContinuousClock.Instant) {
        if record != observed || observedAt == nil {
            observed = record
            observedAt = now
        }
    }

    /// What to write, given the record observed and the wall-clock time to stamp into it.
    public func decide(now: ContinuousClock.Instant, wallClock: Date) -> Decision {
        let stamp = Self.microTime(wallClock)
        let duration = Int(timing.leaseDuration.components.seconds)
        guard let record = observed else {
            var spec = LeaseSpec(
                holderIdentity: identity, leaseDurationSeconds: duration, acquireTime: stamp, renewTime: stamp)
            spec.leaseTransitions = 0
            return .create(spec)
        }
        let holder = record.holderIdentity ?? ""
        if !holder.isEmpty, holder != identity, let observedAt {
            let lasts = record.leaseDurationSeconds.map { Duration.seconds($0) } ?? timing.leaseDuration
            if now < observedAt + lasts { return .follow(holder: holder) }
        }
        var spec = record
        spec.holderIdentity = identity
        spec.leaseDurationSeconds = duration
        spec.renewTime = stamp
        if holder != identity {
            spec.acquireTime = stamp
            spec.leaseTransitions = (record.leaseTransitions ?? 0) + 1
        }
        return .update(spec)
    }

    /// The record a leader writes when it steps down, so a standby need not wait out the lease: no holder and a
    /// one-second duration (client-go's ReleaseOnCancel).
    public func released(wallClock: Date) -> LeaseSpec? {
        guard var spec = observed, isLeader else { return nil }
        spec.holderIdentity = nil
        spec.leaseDurationSeconds = 1
        spec.renewTime = Self.microTime(wallClock)
        return spec
    }

    /// `metav1.MicroTime`'s format: RFC 3339 with six fractional digits, UTC.
    public static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded(.down))
        let base = Timestamp.format(Date(timeIntervalSince1970: seconds))
        return String(base.dropLast()) + String(format: ".%06dZ", min(micros, 999_999))
    }
}
