import Foundation
import StarlingAPI
import Testing

@testable import StarlingClient

@Suite struct LeaderElectionTests {
    static let start = ContinuousClock.now
    static let wall = Date(timeIntervalSince1970: 1_800_000_000.25)

    static func record(
        _ holder: String?, duration: Int = 15, renew: String = "2027-01-15T08:00:00.000000Z", transitions: Int = 3
    ) -> LeaseSpec {
        var spec = LeaseSpec(
            holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: "2027-01-15T07:00:00.000000Z",
            renewTime: renew)
        spec.leaseTransitions = transitions
        return spec
    }

    /// A candidate that saw `first` at the start and `later` (when given) `elapsed` after it, deciding at `elapsed`.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var first: LeaseSpec?
        var later: LeaseSpec?
        var elapsed: Duration
        var expected: Expected
        var testDescription: String { name }
    }

    enum Expected: Sendable, Equatable {
        case create
        case follow(String)
        /// Update with this holder, transitions and whether acquireTime is fresh.
        case update(transitions: Int, freshAcquire: Bool)
    }

    static let cases: [Case] = [
        Case(name: "no lease: create it", first: nil, elapsed: .zero, expected: .create),
        Case(
            name: "held by another, just seen: follow", first: record("b"), elapsed: .seconds(1), expected: .follow("b")
        ),
        Case(
            name: "held by another, unchanged for 14 s: follow", first: record("b"), elapsed: .seconds(14),
            expected: .follow("b")),
        Case(
            name: "held by another, unchanged for the lease duration: take over", first: record("b"),
            elapsed: .seconds(15), expected: .update(transitions: 4, freshAcquire: true)),
        Case(
            name: "another renews: its lease stays fresh", first: record("b"),
            later: record("b", renew: "2027-01-15T08:00:10.000000Z"), elapsed: .seconds(20), expected: .follow("b")),
        Case(
            name: "released (no holder): take over at once", first: record(nil, duration: 1), elapsed: .zero,
            expected: .update(transitions: 4, freshAcquire: true)),
        Case(
            name: "held by this candidate: renew, keep acquireTime", first: record("a"), elapsed: .seconds(30),
            expected: .update(transitions: 3, freshAcquire: false)),
        Case(
            name: "another's short lease ends on its own duration", first: record("b", duration: 2),
            elapsed: .seconds(2), expected: .update(transitions: 4, freshAcquire: true)),
    ]

    @Test(arguments: cases) func decides(_ c: Case) {
        var election = LeaderElection(identity: "a")
        election.observe(c.first, now: Self.start)
        if let later = c.later { election.observe(later, now: Self.start + .seconds(10)) }
        let decision = election.decide(now: Self.start + c.elapsed, wallClock: Self.wall)
        let stamp = LeaderElection.microTime(Self.wall)
        switch (decision, c.expected) {
        case (.create(let spec), .create):
            #expect(spec.holderIdentity == "a" && spec.leaseDurationSeconds == 15 && spec.leaseTransitions == 0)
            #expect(spec.acquireTime == stamp && spec.renewTime == stamp)
        case (.follow(let holder), .follow(let expected)):
            #expect(holder == expected)
        case (.update(let spec), .update(let transitions, let fresh)):
            #expect(spec.holderIdentity == "a" && spec.leaseDurationSeconds == 15 && spec.renewTime == stamp)
            #expect(spec.leaseTransitions == transitions)
            #expect((spec.acquireTime == stamp) == fresh)
        default:
            Issue.record("decided \(decision), expected \(c.expected)")
        }
    }

    @Test func releaseClearsTheHolderOnlyWhenLeading() {
        var election = LeaderElection(identity: "a")
        election.observe(Self.record("b"), now: Self.start)
        #expect(election.released(wallClock: Self.wall) == nil)
        election.observe(Self.record("a"), now: Self.start)
        let released = election.released(wallClock: Self.wall)
        #expect(released?.holderIdentity == nil && released?.leaseDurationSeconds == 1)
        #expect(released?.leaseTransitions == 3)
    }

    @Test func microTimeHasSixFractionalDigits() {
        #expect(LeaderElection.microTime(Self.wall) == "2027-01-15T08:00:00.250000Z")
        #expect(LeaderElection.microTime(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
    }

    @Test func timingFollowsClientGoRules() {
        #expect(LeaderElectionTiming().errors.isEmpty)
        #expect(
            LeaderElectionTiming(leaseDuration: .seconds(10), renewDeadline: .seconds(10), retryPeriod: .seconds(2))
                .errors == ["leaseDuration must be greater than renewDeadline"])
        #expect(
            LeaderElectionTiming(leaseDuration: .seconds(15), renewDeadline: .seconds(2), retryPeriod: .seconds(2))
                .errors == ["renewDeadline must be greater than retryPeriod*1.2"])
    }
}
