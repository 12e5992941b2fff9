import Logging
import ServiceLifecycle
import Synchronization

/// The engine loop in real time: runs `EngineCore` steps, sleeping each step's simulated duration (divided by the
/// time scale), and hands every request its tokens as they are produced.
public final class SimulatedEngine: Service, Sendable {
    public let configuration: EngineConfiguration
    public let clock: SimulationClock
    private let state: Mutex<State>
    private let doorbell = Doorbell()
    private let logger: Logger
    /// On graceful shutdown, how long requests already admitted may run before they are aborted (vLLM's
    /// `--shutdown-timeout`; zero aborts them at once, as vLLM's default does).
    public let shutdownTimeout: Duration

    struct State: ~Copyable {
        var core: EngineCore
        var streams: [UInt64: AsyncStream<EngineEvent>.Continuation] = [:]
        var lateness = LatencyHistogram(bounds: SimulatedEngine.latenessBounds)
        var maxLateness: Double = 0
        var stopped = false
    }

    /// Wall-clock seconds by which steps ended later than planned.
    public static let latenessBounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1]

    public init(
        configuration: EngineConfiguration, timeScale: Double = 1, shutdownTimeout: Duration = .zero,
        logger: Logger = Logger(label: "starling.sim")
    ) {
        self.configuration = configuration
        self.shutdownTimeout = shutdownTimeout
        self.clock = SimulationClock(timeScale: timeScale)
        self.state = Mutex(State(core: EngineCore(configuration: configuration)))
        self.logger = logger
    }

    /// Queues a request; its events arrive on the returned stream. Dropping the stream's consumer aborts it.
    public func submit(_ request: EngineRequest) -> AsyncStream<EngineEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: EngineEvent.self, bufferingPolicy: .unbounded)
        let now = clock.now
        let accepted: UInt64? = state.withLock { state in
            if state.stopped { return nil }
            let id = state.core.add(request, now: now)
            state.streams[id] = continuation
            return id
        }
        guard let id = accepted else {
            continuation.yield(EngineEvent(tokens: 0, time: now, finishReason: .abort))
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.abort(id) }
        }
        doorbell.ring()
        return stream
    }

    /// Frees a request's sequence at once (the client went away).
    public func abort(_ id: UInt64) {
        let continuation = state.withLock { state in
            state.core.abort(id)
            return state.streams.removeValue(forKey: id)
        }
        continuation?.finish()
        doorbell.ring()
    }

    /// A consistent view of the engine for `/metrics`.
    public func snapshot() -> EngineSnapshot {
        state.withLock { state in
            EngineSnapshot(
                running: state.core.runningCount, waiting: state.core.waitingCount,
                kvCacheUsage: state.core.kvCacheUsage, statistics: state.core.statistics,
                runningAdapters: state.core.runningAdapters, waitingAdapters: state.core.waitingAdapters,
                lateness: state.lateness, maxLateness: state.maxLateness)
        }
    }

    /// Runs until cancelled or, on graceful shutdown, until the requests already admitted have finished or
    /// `shutdownTimeout` has passed (new ones are refused meanwhile); whatever is left is aborted.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.loop() }
            group.addTask {
                do { try await gracefulShutdown() } catch { return }
                self.state.withLock { $0.stopped = true }
                let deadline = ContinuousClock.now + self.shutdownTimeout
                while ContinuousClock.now < deadline, self.state.withLock({ !$0.streams.isEmpty }) {
                    do { try await Task.sleep(for: .milliseconds(10)) } catch { return }
                }
            }
            await group.next()
            group.cancelAll()
        }
        let streams = state.withLock { state in
            state.stopped = true
            defer { state.streams.removeAll() }
            return Array(state.streams.values)
        }
        let now = clock.now
        for continuation in streams {
            continuation.yield(EngineEvent(tokens: 0, time: now, finishReason: .abort))
            continuation.finish()
        }
    }

    private func loop() async throws {
        while !Task.isCancelled {
            let now = clock.now
            let decision = state.withLock { $0.core.schedule(now: now) }
            switch decision {
            case .step(let plan):
                let deadline = clock.instant(at: plan.end)
                try await Task.sleep(until: deadline, tolerance: .microseconds(50), clock: .continuous)
                let woke = ContinuousClock.now
                let late = max(0, (woke - deadline).seconds)
                let end = max(plan.end, clock.simulated(woke))
                state.withLock { state in
                    state.lateness.observe(late)
                    state.maxLateness = max(state.maxLateness, late)
                    for (id, event) in state.core.complete(plan, now: end) {
                        guard let continuation = state.streams[id] else { continue }
                        continuation.yield(event)
                        if event.finishReason != nil {
                            state.streams[id] = nil
                            continuation.finish()
                        }
                    }
                }
            case .idle(let until):
                if let until {
                    await doorbell.wait(until: clock.instant(at: until))
                } else {
                    await doorbell.wait()
                }
            }
        }
    }
}

/// A point-in-time view of the engine.
public struct EngineSnapshot: Sendable {
    public var running: Int
    public var waiting: Int
    public var kvCacheUsage: Double
    public var statistics: EngineStatistics
    public var runningAdapters: Set<String>
    public var waitingAdapters: Set<String>
    public var lateness: LatencyHistogram
    public var maxLateness: Double
}
