import Foundation
import StarlingAPI

/// A change to one object, as recorded and broadcast.
struct Change {
    var rv: Int64
    var resource: String
    var namespace: String
    var type: WatchEventType
    var object: JSONValue
    var objectData: Data
    var previous: JSONValue?
}

/// A registered watch.
struct Watcher {
    var resource: String
    var namespace: String?
    var labelSelector: LabelSelector?
    var fieldSelector: FieldSelector?
    var continuation: AsyncStream<Data>.Continuation

    func matches(_ value: JSONValue) -> Bool {
        if let labelSelector, !labelSelector.matches(ObjectStore.labels(of: value)) { return false }
        if let fieldSelector, !fieldSelector.matches(value) { return false }
        return true
    }

    /// The event this watcher sees for a change, if any: selectors turn modifications into ADDED or DELETED when
    /// an object starts or stops matching, as the Kubernetes API server does.
    func eventType(for change: Change) -> WatchEventType? {
        if let namespace, namespace != change.namespace { return nil }
        switch change.type {
        case .added, .deleted:
            return matches(change.object) ? change.type : nil
        case .modified:
            let now = matches(change.object)
            let before = change.previous.map(matches) ?? now
            switch (before, now) {
            case (true, true): return .modified
            case (false, true): return .added
            case (true, false): return .deleted
            case (false, false): return nil
            }
        default:
            return nil
        }
    }
}

/// One line of a watch stream: `{"type":"…","object":…}\n`.
func watchLine(type: WatchEventType, objectData: Data) -> Data {
    var line = Data("{\"type\":\"\(type.rawValue)\",\"object\":".utf8)
    line.append(objectData)
    line.append(contentsOf: Array("}\n".utf8))
    return line
}

extension ObjectStore {
    /// Events a watcher may fall behind by before it is closed (the client then resumes from its last rv).
    static let watcherBuffer = 20_000

    /// Starts a watch. With `resourceVersion` nil or "0", the current objects come first as ADDED events; with a
    /// version N, every change after N is replayed from history, or 410 Gone if it is older than the history.
    /// Returns the watcher's id (for bookmarks and cancellation) and the stream of JSON lines.
    public func watch(
        _ descriptor: ResourceDescriptor, namespace: String?, resourceVersion: String?,
        labelSelector: LabelSelector? = nil, fieldSelector: FieldSelector? = nil
    ) throws(Status) -> (id: Int, stream: AsyncStream<Data>) {
        let h = try handler(for: descriptor)
        let (stream, continuation) = AsyncStream<Data>.makeStream(bufferingPolicy: .bufferingOldest(Self.watcherBuffer))
        let watcher = Watcher(
            resource: h.resourceKey, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
            continuation: continuation)
        if let rvString = resourceVersion, !rvString.isEmpty, rvString != "0" {
            guard let rv = Int64(rvString), rv >= 0 else {
                throw Status.badRequest("resourceVersion: Invalid value: \"\(rvString)\": must be an integer")
            }
            if rv < compactedRV {
                throw Status.gone("too old resource version: \(rv) (\(compactedRV + 1))")
            }
            do {
                try db.query(
                    "SELECT rv, namespace, type, data, prev FROM changes WHERE resource = ? AND rv > ? ORDER BY rv",
                    [.text(h.resourceKey), .int(rv)]
                ) { row in
                    let data = row.blob(3)
                    guard let object = try? JSONValue.parse(data) else { return }
                    let change = Change(
                        rv: row.int(0), resource: h.resourceKey, namespace: row.text(1),
                        type: WatchEventType(rawValue: row.text(2)) ?? .modified, object: object, objectData: data,
                        previous: row.isNull(4) ? nil : try? JSONValue.parse(row.blob(4)))
                    if let type = watcher.eventType(for: change) {
                        continuation.yield(watchLine(type: type, objectData: data))
                    }
                }
            } catch {
                throw Status.internalError("\(error)")
            }
        } else {
            let current = try list(
                descriptor, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
            for item in current.items {
                continuation.yield(watchLine(type: .added, objectData: item))
            }
        }
        let id = nextWatcherID
        nextWatcherID += 1
        guard acceptingWatches else {
            continuation.finish()
            return (id, stream)
        }
        watchers[id] = watcher
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.removeWatcher(id) }
        }
        return (id, stream)
    }

    /// Lets watches stay open again (a server starting to serve the store).
    public func acceptWatches() {
        acceptingWatches = true
    }

    /// Sends a BOOKMARK with the current resourceVersion to one watcher, in order with its other events.
    public func bookmark(watcherID: Int, descriptor: ResourceDescriptor) {
        guard let w = watchers[watcherID] else { return }
        let object: JSONValue = .object([
            "apiVersion": .string(descriptor.apiVersion), "kind": .string(descriptor.kind),
            "metadata": .object(["resourceVersion": .string(String(currentRV))]),
        ])
        guard let data = try? object.data() else { return }
        if case .dropped = w.continuation.yield(watchLine(type: .bookmark, objectData: data)) {
            w.continuation.finish()
            watchers[watcherID] = nil
        }
    }

    /// Ends a watch.
    public func removeWatcher(_ id: Int) {
        if let w = watchers.removeValue(forKey: id) { w.continuation.finish() }
    }

    /// Ends every watch, and every watch started until `acceptWatches()` as soon as its first events are sent (on
    /// shutdown: a client whose watch ended watches again at once, maybe over a connection not yet closed).
    public func closeAllWatches() {
        acceptingWatches = false
        for (_, w) in watchers { w.continuation.finish() }
        watchers.removeAll()
    }

    func broadcast(_ change: Change) {
        var overflowed: [Int] = []
        for (id, w) in watchers where w.resource == change.resource {
            guard let type = w.eventType(for: change) else { continue }
            if case .dropped = w.continuation.yield(watchLine(type: type, objectData: change.objectData)) {
                overflowed.append(id)
            }
        }
        for id in overflowed {
            logger.warning("closing a watch that fell behind", metadata: ["watch.resource": "\(change.resource)"])
            watchers[id]?.continuation.finish()
            watchers[id] = nil
        }
    }
}
