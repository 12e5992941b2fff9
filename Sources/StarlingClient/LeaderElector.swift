import Foundation
import Logging
import StarlingAPI

/// Runs work only while this process holds a `coordination.k8s.io/v1` Lease: candidates try to acquire it every
/// retry period; the leader renews it and, when it cannot renew within the renew deadline, cancels its work and
/// becomes a candidate again. On cancellation (shutdown) the leader releases the lease so a standby takes over at
/// once (unless `releaseOnCancel` is false). The decisions are `LeaderElection`'s; this shell only reads and writes the Lease.
public actor LeaderElector {
    let client: any KubeAPI
    let namespace: String
    let name: String
    let logger: Logger
    let releaseOnCancel: Bool
    private var election: LeaderElection
    /// The Lease as last read or written, for its resourceVersion.
    private var lease: Lease?
    /// Terms led so far; a test and the logs use it.
    public private(set) var terms = 0

    public init(
        client: any KubeAPI, namespace: String, name: String, identity: String,
        timing: LeaderElectionTiming = LeaderElectionTiming(), releaseOnCancel: Bool = true,
        logger: Logger = Logger(label: "starling.leader")
    ) {
        self.releaseOnCancel = releaseOnCancel
        self.client = client
        self.namespace = namespace
        self.name = name
        var logger = logger
        logger[metadataKey: "lease"] = "\(namespace)/\(name)"
        logger[metadataKey: "lease.identity"] = "\(identity)"
        self.logger = logger
        self.election = LeaderElection(identity: identity, timing: timing)
    }

    /// The requests election makes, on Leases in its namespace only.
    public static let apiAccess: [APIAccess] = APIAccess.on(Lease.descriptor, "get", "create", "update")

    /// A candidate identity as client-go makes one: the host name and a random suffix.
    public static func defaultIdentity() -> String {
        "\(ProcessInfo.processInfo.hostName)_\(UUID().uuidString.lowercased())"
    }

    /// Whether this candidate held the lease at its last read or write.
    public var isLeader: Bool { election.isLeader }

    /// Leads with `lead` whenever this candidate holds the lease, until cancelled. `lead` is cancelled when the
    /// lease is lost and must return promptly then; it is started afresh on the next term.
    public func run(lead: @escaping @Sendable () async -> Void) async {
        let timing = election.timing
        while !Task.isCancelled {
            while !Task.isCancelled, !(await tryAcquireOrRenew(timeout: timing.renewDeadline)) {
                try? await Task.sleep(for: Self.jittered(timing.retryPeriod))
            }
            if Task.isCancelled { break }
            terms += 1
            logger.info("became leader", metadata: ["lease.term": "\(terms)"])
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await lead() }
                group.addTask { await self.renewUntilLost() }
                await group.next()
                group.cancelAll()
            }
            if !Task.isCancelled { logger.warning("lost the lease; stopped leading") }
        }
        // Cancellation is the only way out: step down for whoever is next.
        if releaseOnCancel { await Task { await self.release() }.value }
    }

    /// Renews every retry period; returns when a renewal has not succeeded within the renew deadline, or when
    /// cancelled.
    private func renewUntilLost() async {
        let timing = election.timing
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: timing.retryPeriod) } catch { return }
            let left = timing.renewDeadline - (ContinuousClock.now - lastRenewal)
            if left > .zero, await tryAcquireOrRenew(timeout: left) {
                lastRenewal = ContinuousClock.now
            } else if ContinuousClock.now - lastRenewal >= timing.renewDeadline {
                return
            }
        }
    }

    /// One read and, when the decision says so, one write; true when this candidate holds the lease after it.
    private func tryAcquireOrRenew(timeout: Duration) async -> Bool {
        do {
            return try await Self.within(timeout) { try await self.acquireOrRenew() }
        } catch let status as Status where status.isConflict {
            logger.debug("lease write conflicted; another candidate wrote first")
        } catch is CancellationError {
        } catch {
            logger.debug("cannot read or write the lease", metadata: ["error": "\(error)"])
        }
        return false
    }

    private func acquireOrRenew() async throws -> Bool {
        let current: Lease?
        do {
            current = try await client.get(Lease.self, namespace: namespace, name: name)
        } catch let status as Status where status.isNotFound {
            current = nil
        }
        lease = current
        election.observe(current?.spec, now: .now)
        switch election.decide(now: .now, wallClock: Date()) {
        case .follow(let holder):
            logger.trace("following", metadata: ["lease.holder": "\(holder)"])
            return false
        case .create(let spec):
            let created = try await client.create(
                Lease(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec))
            remember(created)
        case .update(let spec):
            guard var updated = current else { return false }
            updated.spec = spec
            remember(try await client.update(updated))
        }
        return election.isLeader
    }

    private func remember(_ written: Lease) {
        lease = written
        election.observe(written.spec, now: .now)
    }

    /// Writes the released record when this candidate leads; errors are logged (the lease then simply expires).
    private func release() async {
        guard var current = lease, let spec = election.released(wallClock: Date()) else { return }
        current.spec = spec
        let identity = election.identity
        let namespace = self.namespace
        let name = self.name
        let first = current
        do {
            let written = try await Self.within(.seconds(5)) { [client] () async throws -> Lease in
                do {
                    return try await client.update(first)
                } catch let status as Status where status.isConflict {
                    // A renewal cancelled in flight may have landed: reread, and release only what is still ours.
                    var fresh = try await client.get(Lease.self, namespace: namespace, name: name)
                    guard fresh.spec?.holderIdentity == identity else { return fresh }
                    fresh.spec = spec
                    return try await client.update(fresh)
                }
            }
            remember(written)
            logger.info("released the lease")
        } catch {
            logger.info("could not release the lease; it expires on its own", metadata: ["error": "\(error)"])
        }
    }

    /// client-go's wait.Jitter(period, 1.2): a random duration in [period, 2.2 × period).
    static func jittered(_ period: Duration) -> Duration {
        period + period * Double.random(in: 0..<1.2)
    }

    /// Runs `body`, throwing `CancellationError` when it takes longer than `timeout`.
    static func within<T: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw CancellationError() }
            return value
        }
    }
}
