import Foundation
import StarlingAPI
import StarlingTestSupport
import Testing

@testable import StarlingClient

/// Leader election against both API servers: one leader at a time, a standby that takes over when the leader
/// steps down or dies, and a leader that stops leading when its lease is taken.
@Suite struct LeaderElectorTests {
    /// Short terms so a test waits seconds, not the defaults' 15 s.
    static let timing = LeaderElectionTiming(
        leaseDuration: .seconds(3), renewDeadline: .seconds(2), retryPeriod: .milliseconds(400))

    /// Counts who leads: each candidate's lead body marks itself leading until cancelled.
    actor Leadership {
        var leading: Set<String> = []
        var mostAtOnce = 0
        var terms: [String] = []

        func begin(_ who: String) {
            leading.insert(who)
            terms.append(who)
            mostAtOnce = max(mostAtOnce, leading.count)
        }

        func end(_ who: String) { leading.remove(who) }
    }

    static func candidate(
        _ who: String, _ connection: TestBackend.Connection, _ leadership: Leadership, release: Bool = true
    ) -> (LeaderElector, Task<Void, Never>) {
        let elector = LeaderElector(
            client: connection.client, namespace: connection.namespace, name: "operator", identity: who,
            timing: timing, releaseOnCancel: release)
        let task = Task {
            await elector.run {
                await leadership.begin(who)
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(50)) }
                await leadership.end(who)
            }
        }
        return (elector, task)
    }

    @Test(arguments: TestBackend.allCases) func standbyTakesOverWhenTheLeaderStepsDown(
        _ backend: TestBackend
    ) async throws {
        let connection = try await backend.connect()
        defer { connection.stop() }
        let leadership = Leadership()
        let (_, a) = Self.candidate("a", connection, leadership)
        try await eventually("leading == ['a']", timeout: .seconds(20)) { await leadership.leading == ["a"] }
        let (_, b) = Self.candidate("b", connection, leadership)
        defer { b.cancel() }
        try await Task.sleep(for: Self.timing.leaseDuration)  // b must not lead while a renews.
        #expect(await leadership.leading == ["a"])
        a.cancel()
        await a.value
        // Released, not left to expire: the record a wrote on its way out names no holder (or b already).
        let released = try await connection.client.get(Lease.self, namespace: connection.namespace, name: "operator")
        #expect(released.spec?.holderIdentity == nil || released.spec?.holderIdentity == "b")
        #expect(released.spec?.leaseDurationSeconds == 1 || released.spec?.holderIdentity == "b")
        try await eventually("leading == ['b']", timeout: .seconds(20)) { await leadership.leading == ["b"] }
        #expect(await leadership.mostAtOnce == 1)
        let lease = try await connection.client.get(Lease.self, namespace: connection.namespace, name: "operator")
        #expect(lease.spec?.holderIdentity == "b")
        #expect(lease.spec?.leaseTransitions == 1, "one hand-over, a to b")
    }

    @Test(arguments: TestBackend.allCases) func standbyWaitsOutADeadLeadersLease(_ backend: TestBackend) async throws {
        let connection = try await backend.connect()
        defer { connection.stop() }
        let leadership = Leadership()
        let (_, a) = Self.candidate("a", connection, leadership, release: false)
        try await eventually("leading == ['a']", timeout: .seconds(20)) { await leadership.leading == ["a"] }
        let (_, b) = Self.candidate("b", connection, leadership)
        defer { b.cancel() }
        try await Task.sleep(for: .milliseconds(500))
        let died = ContinuousClock.now
        a.cancel()  // Without releasing: as if the process were killed.
        await a.value
        try await eventually("leading == ['b']", timeout: .seconds(20)) { await leadership.leading == ["b"] }
        let waited = ContinuousClock.now - died
        #expect(waited >= Self.timing.leaseDuration - Self.timing.retryPeriod * 2, "took over after \(waited)")
        #expect(await leadership.mostAtOnce == 1)
    }

    @Test(arguments: TestBackend.allCases) func leaderStopsWhenItsLeaseIsTaken(_ backend: TestBackend) async throws {
        let connection = try await backend.connect()
        defer { connection.stop() }
        let leadership = Leadership()
        let (_, a) = Self.candidate("a", connection, leadership)
        defer { a.cancel() }
        try await eventually("leading == ['a']", timeout: .seconds(20)) { await leadership.leading == ["a"] }
        // An intruder overwrites the lease with a long one: a cannot renew and must stop within its deadline.
        var lease = try await connection.client.get(Lease.self, namespace: connection.namespace, name: "operator")
        lease.spec?.holderIdentity = "intruder"
        lease.spec?.leaseDurationSeconds = 3600
        lease.spec?.renewTime = LeaderElection.microTime(Date())
        _ = try await connection.client.update(lease)
        // It stops once renewals have failed for the renew deadline (2 s here); how soon after that depends on how
        // busy the shared cores are, so only the stop itself is checked.
        try await eventually("leading.isEmpty", timeout: .seconds(20)) { await leadership.leading.isEmpty }
    }
}
