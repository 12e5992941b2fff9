import Logging
import StarlingAPI

/// A change an informer delivers to its handler.
public enum InformerEvent<T: KubernetesResource>: Sendable {
    case added(T)
    case updated(old: T, new: T)
    case deleted(T)
}

/// Keeps a local cache of one kind in step with the API server: list, then watch from the list's
/// resourceVersion; relist when the history has expired (410); reconnect with backoff on errors.
public actor Informer<T: KubernetesResource> {
    let client: any KubeAPI
    let namespace: String?
    let labelSelector: String?
    let logger: Logger
    private var cache: [ObjectKey: T] = [:]
    private var handlers: [Int: @Sendable (InformerEvent<T>) async -> Void] = [:]
    private var undecodableHandlers: [Int: @Sendable (UndecodableObject) async -> Void] = [:]
    /// Objects that could not be decoded, by key, so each is reported once per resourceVersion.
    private var undecodable: [ObjectKey: String] = [:]
    private var nextHandlerID = 0
    private var synced = false
    private var syncWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiterID = 0
    private var stopped = false
    private var lastResourceVersion: String?

    public init(
        client: any KubeAPI, namespace: String? = nil, labelSelector: String? = nil,
        logger: Logger = Logger(label: "starling.informer")
    ) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        var logger = logger
        logger[metadataKey: "informer.kind"] = "\(T.descriptor.kind)"
        self.logger = logger
    }

    /// Registers a handler for every change. A handler added to an informer that has already listed (a shared
    /// one, started by another component) first gets every cached object as `.added`, as client-go does; changes
    /// arriving meanwhile may reach it before the replay of an older copy, so handlers should act on keys, not on
    /// the object delivered (as controllers' work queues do).
    @discardableResult
    public func addHandler(_ handler: @escaping @Sendable (InformerEvent<T>) async -> Void) async -> Int {
        let id = nextHandlerID
        nextHandlerID += 1
        handlers[id] = handler
        if synced {
            for object in cache.values { await handler(.added(object)) }
        }
        return id
    }

    /// Registers a handler for objects this build cannot decode. They are left out of the cache (a stale copy is
    /// dropped, as if deleted) and reported once per resourceVersion; the list and watch go on.
    @discardableResult
    public func addUndecodableHandler(_ handler: @escaping @Sendable (UndecodableObject) async -> Void) -> Int {
        let id = nextHandlerID
        nextHandlerID += 1
        undecodableHandlers[id] = handler
        return id
    }

    /// Unregisters what `addUndecodableHandler` returned `id` for.
    public func removeUndecodableHandler(_ id: Int) { undecodableHandlers[id] = nil }

    /// Unregisters the handler `addHandler` returned `id` for (a component that stops while the shared informer
    /// runs on, such as a controller losing leadership).
    public func removeHandler(_ id: Int) { handlers[id] = nil }

    /// The cached object with `key`.
    public func get(_ key: ObjectKey) -> T? { cache[key] }

    /// Cached objects, optionally in one namespace and matching a selector.
    public func list(namespace: String? = nil, selector: LabelSelector? = nil) -> [T] {
        cache.values.filter { obj in
            (namespace == nil || obj.metadata.namespace == namespace)
                && (selector?.matches(obj.metadata.labels) ?? true)
        }
    }

    /// Whether the first list has completed.
    public var hasSynced: Bool { synced }

    /// Waits for the first list; returns early (with `hasSynced` still false) when the waiting task is cancelled or
    /// `run()` has ended, so that a component stopped before it could list never hangs its shutdown.
    public func waitForSync() async {
        if synced || stopped || Task.isCancelled { return }
        let id = nextWaiterID
        nextWaiterID += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    syncWaiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.releaseWaiter(id) }
        }
    }

    private func releaseWaiter(_ id: Int) {
        syncWaiters.removeValue(forKey: id)?.resume()
    }

    private func releaseAllWaiters() {
        for w in syncWaiters.values { w.resume() }
        syncWaiters.removeAll()
    }

    /// Runs until cancelled.
    public func run() async {
        defer {
            stopped = true
            releaseAllWaiters()
        }
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                if lastResourceVersion == nil { try await relist() }
                backoff = .milliseconds(100)
                try await watchOnce()
            } catch let status as Status where status.isGone {
                logger.debug("watch history expired; relisting")
                lastResourceVersion = nil
            } catch {
                if Task.isCancelled { break }
                logger.debug("watch failed; retrying", metadata: ["error": "\(error)", "retry.in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    private func relist() async throws {
        let (list, bad) = try await client.listReportingUndecodable(
            T.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: nil)
        for object in bad { await report(object) }
        var fresh: [ObjectKey: T] = [:]
        for item in list.items { fresh[ObjectKey(item.metadata)] = item }
        let old = cache
        cache = fresh
        lastResourceVersion = list.metadata.resourceVersion
        for (key, item) in fresh {
            if let previous = old[key] {
                if previous.metadata.resourceVersion != item.metadata.resourceVersion {
                    await emit(.updated(old: previous, new: item))
                }
            } else {
                await emit(.added(item))
            }
        }
        for (key, item) in old where fresh[key] == nil { await emit(.deleted(item)) }
        if !synced {
            synced = true
            releaseAllWaiters()
        }
    }

    private func watchOnce() async throws {
        let stream = client.watch(
            T.self, namespace: namespace, resourceVersion: lastResourceVersion, labelSelector: labelSelector,
            fieldSelector: nil, allowBookmarks: true, timeoutSeconds: 300 + Int.random(in: 0..<60))
        for try await update in stream {
            switch update {
            case .added(let obj), .modified(let obj):
                let key = ObjectKey(obj.metadata)
                lastResourceVersion = obj.metadata.resourceVersion
                if let old = cache[key] {
                    cache[key] = obj
                    await emit(.updated(old: old, new: obj))
                } else {
                    cache[key] = obj
                    await emit(.added(obj))
                }
            case .deleted(let obj):
                lastResourceVersion = obj.metadata.resourceVersion
                let key = ObjectKey(obj.metadata)
                cache[key] = nil
                await emit(.deleted(obj))
            case .bookmark(let rv):
                if !rv.isEmpty { lastResourceVersion = rv }
            case .undecodable(let object):
                if let rv = object.resourceVersion { lastResourceVersion = rv }
                if let stale = cache.removeValue(forKey: object.key) { await emit(.deleted(stale)) }
                if !object.deleted { await report(object) }
            }
        }
    }

    private func report(_ object: UndecodableObject) async {
        let version = object.resourceVersion ?? ""
        guard undecodable[object.key] != version else { return }
        undecodable[object.key] = version
        logger.warning(
            "cannot decode object; leaving it out",
            metadata: ["object": "\(object.key)", "error": "\(object.error)"])
        for id in undecodableHandlers.keys.sorted() { await undecodableHandlers[id]?(object) }
    }

    private func emit(_ event: InformerEvent<T>) async {
        for h in handlers.keys.sorted().compactMap({ handlers[$0] }) { await h(event) }
    }
}
