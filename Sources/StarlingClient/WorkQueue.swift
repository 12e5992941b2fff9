/// A queue of keys to reconcile, as client-go's workqueue: a key is queued at most once, a key being processed
/// is not handed to a second worker (it is re-queued when done if it was added meanwhile), and failures are
/// retried with per-key exponential backoff.
public actor WorkQueue<Key: Hashable & Sendable> {
    private var queue: [Key] = []
    private var head = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var failures: [Key: Int] = [:]
    private var waiters: [(id: Int, continuation: CheckedContinuation<Key?, Never>)] = []
    private var nextWaiterID = 0
    private var shuttingDown = false
    private let baseDelay: Duration
    private let maxDelay: Duration

    public init(baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(30)) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Queues `key` unless it is already waiting.
    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        if processing.contains(key) { return }
        if let waiter = waiters.first {
            waiters.removeFirst()
            dirty.remove(key)
            processing.insert(key)
            waiter.continuation.resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    /// Queues `key` after `delay`.
    public func add(_ key: Key, after delay: Duration) {
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.add(key)
        }
    }

    /// Queues `key` after a delay that doubles with each consecutive failure.
    public func addRateLimited(_ key: Key) {
        let n = failures[key, default: 0]
        failures[key] = n + 1
        let factor = Double(1 << min(n, 20))
        let delay = min(baseDelay * factor, maxDelay)
        add(key, after: delay)
    }

    /// Forgets `key`'s failures.
    public func forget(_ key: Key) { failures[key] = nil }

    /// Consecutive failures of `key`.
    public func failureCount(_ key: Key) -> Int { failures[key, default: 0] }

    /// The next key to process, waiting for one; nil once the queue shuts down or the waiting task is cancelled.
    public func next() async -> Key? {
        if let key = popFront() { return key }
        if shuttingDown || Task.isCancelled { return nil }
        let id = nextWaiterID
        nextWaiterID += 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: nil)
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: nil)
    }

    private func popFront() -> Key? {
        guard head < queue.count else { return nil }
        let key = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        dirty.remove(key)
        processing.insert(key)
        return key
    }

    /// Marks `key` done; it is queued again if it was added while processing.
    public func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key) {
            dirty.remove(key)
            add(key)
        }
    }

    /// Keys waiting.
    public var count: Int { queue.count - head }

    /// Stops handing out keys; waiting workers get nil.
    public func shutDown() {
        shuttingDown = true
        for w in waiters { w.continuation.resume(returning: nil) }
        waiters.removeAll()
    }
}
