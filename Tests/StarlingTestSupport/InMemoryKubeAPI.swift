import Foundation
import StarlingAPI
import StarlingClient

/// An API server in memory, for fast controller tests: the verbs of `KubeAPI` with kube-apiserver's semantics
/// where controllers depend on them — resourceVersions, conflicts on stale updates, `generateName`, the status
/// subresource (a main-resource write keeps the stored status; a status write changes only status), JSON merge
/// patches, label and field selectors, validation of typed kinds, watches from a resourceVersion with 410 once the
/// history is gone, and cascading deletion through owner references.
///
/// Simplifications, so tests stay deterministic: deletion is immediate (no grace period or finalizers), watches
/// send no bookmarks and ignore `timeoutSeconds`, and only merge patches are served (others answer 415).
/// Every request is recorded as an `APIAccess` (`requests`), and `fail(_:with:)` makes chosen requests fail.
public actor InMemoryKubeAPI: KubeAPI {
    public nonisolated let defaultNamespace: String
    /// Stored objects by resource (`pods`, `modelservices.starling.dev`) and key.
    private var objects: [String: [ObjectKey: JSONValue]] = [:]
    private var revision = 0
    /// Recent changes for watches to resume from, oldest first.
    private var history: [Change] = []
    /// Watches asking for changes older than this get 410.
    private var oldestKept = 0
    private let historyLimit: Int
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcher = 0
    private var failures: [APIAccess: [Status]] = [:]
    /// Every request so far, in order.
    public private(set) var requests: [APIAccess] = []

    struct Change {
        var revision: Int
        var resource: String
        var type: WatchEventType
        var object: JSONValue
    }

    struct Watcher {
        var resource: String
        var namespace: String?
        var labels: LabelSelector?
        var fields: FieldSelector?
        var send: @Sendable (WatchEventType, JSONValue) -> Void
        var end: @Sendable (Status) -> Void
    }

    public init(defaultNamespace: String = WellKnown.defaultNamespace, historyLimit: Int = 10_000) {
        self.defaultNamespace = defaultNamespace
        self.historyLimit = historyLimit
    }

    /// Makes the next `times` requests matching `access` fail with `status`.
    public func fail(_ access: APIAccess, with status: Status, times: Int = 1) {
        failures[access, default: []] += Array(repeating: status, count: times)
    }

    /// Ends every open watch with `status` (410 makes informers relist), as a restarted API server would.
    public func endWatches(with status: Status = .gone("watch history expired")) {
        for watcher in watchers.values { watcher.end(status) }
        watchers.removeAll()
    }

    /// Forgets the change history, so a watch from any earlier resourceVersion gets 410.
    public func compactHistory() {
        oldestKept = revision
        history.removeAll()
    }

    /// Stores `value` as it is, without decoding or validating it (an object a newer build wrote, say).
    @discardableResult
    public func insertRaw(_ descriptor: ResourceDescriptor, _ value: JSONValue) -> JSONValue {
        var value = value
        stamp(&value, descriptor: descriptor, creating: true)
        let key = Self.key(of: value)
        objects[descriptor.description, default: [:]][key] = value
        record(descriptor, .added, value)
        return value
    }

    // MARK: KubeAPI

    public func get<T: KubernetesResource>(_ type: T.Type, namespace: String?, name: String) async throws -> T {
        try check(APIAccess("get", T.descriptor.plural, group: T.descriptor.group))
        guard let stored = objects[T.descriptor.description]?[key(T.descriptor, namespace, name)] else {
            throw Status.notFound(T.descriptor, name: name)
        }
        return try decode(stored, as: T.self)
    }

    public func listReportingUndecodable<T: KubernetesResource>(
        _ type: T.Type, namespace: String?, labelSelector: String?, fieldSelector: String?
    ) async throws -> (list: ObjectList<T>, undecodable: [UndecodableObject]) {
        try check(APIAccess("list", T.descriptor.plural, group: T.descriptor.group))
        let (labels, fields) = try selectors(T.descriptor, labelSelector, fieldSelector)
        var items: [T] = []
        var undecodable: [UndecodableObject] = []
        let stored = (objects[T.descriptor.description] ?? [:]).sorted { $0.key < $1.key }
        for (key, value) in stored
        where Self.matches(value, key: key, namespace: namespace, labels: labels, fields: fields) {
            do {
                items.append(try value.decode(as: T.self))
            } catch {
                undecodable.append(UndecodableObject(value, error: error))
            }
        }
        return (ObjectList(metadata: ListMeta(resourceVersion: String(revision)), items: items), undecodable)
    }

    public func create<T: KubernetesResource>(_ object: T) async throws -> T {
        let d = T.descriptor
        try check(APIAccess("create", d.plural, group: d.group))
        var object = object
        object.setTypeMeta()
        if d.namespaced && object.metadata.namespace == nil { object.metadata.namespace = defaultNamespace }
        if object.metadata.name == nil, let prefix = object.metadata.generateName {
            object.metadata.name = prefix + String((0..<5).map { _ in "bcdfghjklmnpqrstvwxz2456789".randomElement()! })
        }
        var value = try JSONValue(encoding: object)
        _ = try validated(value, as: T.self)
        if d.hasStatus { value["status"] = nil }
        let key = Self.key(of: value)
        guard objects[d.description]?[key] == nil else { throw Status.alreadyExists(d, name: key.name) }
        stamp(&value, descriptor: d, creating: true)
        objects[d.description, default: [:]][key] = value
        record(d, .added, value)
        return try decode(value, as: T.self)
    }

    public func update<T: KubernetesResource>(_ object: T) async throws -> T {
        let d = T.descriptor
        try check(APIAccess("update", d.plural, group: d.group))
        var object = object
        object.setTypeMeta()
        let key = key(d, object.metadata.namespace, object.metadata.nameOrEmpty)
        guard let stored = objects[d.description]?[key] else { throw Status.notFound(d, name: key.name) }
        let storedVersion = stored.value(atPath: "metadata.resourceVersion")?.stringValue
        if let version = object.metadata.resourceVersion, version != storedVersion {
            throw Status.conflict(
                d, name: key.name,
                detail: "the object has been modified; please apply your changes to the latest version")
        }
        var value = try JSONValue(encoding: object)
        value["metadata"] = stored["metadata"].map { Self.keepingServerFields($0, from: value["metadata"]) }
        if d.hasStatus { value["status"] = stored["status"] }
        _ = try validated(value, as: T.self)
        return try decode(try write(d, key: key, old: stored, new: value), as: T.self)
    }

    public func patch<T: KubernetesResource>(
        _ type: T.Type, namespace: String?, name: String, patch: JSONValue, patchType: PatchType,
        subresource: String?
    ) async throws -> T {
        let patched = try patchRaw(
            T.descriptor, namespace: namespace, name: name, patch: patch, patchType: patchType,
            subresource: subresource, validate: { value in _ = try self.validated(value, as: T.self) })
        return try decode(patched, as: T.self)
    }

    public func patchRaw(
        _ d: ResourceDescriptor, namespace: String?, name: String, patch: JSONValue, patchType: PatchType,
        subresource: String?
    ) async throws -> JSONValue {
        try patchRaw(
            d, namespace: namespace, name: name, patch: patch, patchType: patchType, subresource: subresource,
            validate: { _ in })
    }

    public func delete<T: KubernetesResource>(
        _ type: T.Type, namespace: String?, name: String, options: DeleteOptions
    ) async throws {
        let d = T.descriptor
        try check(APIAccess("delete", d.plural, group: d.group))
        let key = key(d, namespace, name)
        guard objects[d.description]?[key] != nil else { throw Status.notFound(d, name: name) }
        remove(d.description, key)
    }

    public nonisolated func watch<T: KubernetesResource>(
        _ type: T.Type, namespace: String?, resourceVersion: String?, labelSelector: String?,
        fieldSelector: String?, allowBookmarks: Bool, timeoutSeconds: Int?
    ) -> AsyncThrowingStream<WatchUpdate<T>, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchUpdate<T>, any Error>.makeStream()
        let send: @Sendable (WatchEventType, JSONValue) -> Void = { type, value in
            do {
                let object = try value.decode(as: T.self)
                switch type {
                case .added: continuation.yield(.added(object))
                case .deleted: continuation.yield(.deleted(object))
                default: continuation.yield(.modified(object))
                }
            } catch {
                continuation.yield(.undecodable(UndecodableObject(value, error: error, deleted: type == .deleted)))
            }
        }
        let registering = Task<Int?, Never> {
            do {
                return try await self.register(
                    T.descriptor, namespace: namespace, resourceVersion: resourceVersion, labelSelector: labelSelector,
                    fieldSelector: fieldSelector, send: send,
                    end: { status in continuation.finish(throwing: status) })
            } catch {
                continuation.finish(throwing: error)
                return nil
            }
        }
        continuation.onTermination = { _ in
            Task { if let id = await registering.value { await self.unregister(id) } }
        }
        return stream
    }

    public func serves(_ descriptor: ResourceDescriptor) async throws -> Bool {
        ResourceTypes.all.contains { $0.descriptor == descriptor }
    }

    // MARK: Internals

    private func register(
        _ d: ResourceDescriptor, namespace: String?, resourceVersion: String?, labelSelector: String?,
        fieldSelector: String?, send: @escaping @Sendable (WatchEventType, JSONValue) -> Void,
        end: @escaping @Sendable (Status) -> Void
    ) throws -> Int {
        try check(APIAccess("watch", d.plural, group: d.group))
        let (labels, fields) = try selectors(d, labelSelector, fieldSelector)
        let from = Int(resourceVersion ?? "") ?? revision
        guard from >= oldestKept else {
            throw Status.gone("too old resource version: \(from) (\(oldestKept))")
        }
        for change in history
        where change.revision > from && change.resource == d.description
            && Self.matches(
                change.object, key: Self.key(of: change.object), namespace: namespace, labels: labels, fields: fields)
        {
            send(change.type, change.object)
        }
        let id = nextWatcher
        nextWatcher += 1
        watchers[id] = Watcher(
            resource: d.description, namespace: namespace, labels: labels, fields: fields, send: send, end: end)
        return id
    }

    private func unregister(_ id: Int) { watchers[id] = nil }

    private func patchRaw(
        _ d: ResourceDescriptor, namespace: String?, name: String, patch: JSONValue, patchType: PatchType,
        subresource: String?, validate: (JSONValue) throws -> Void
    ) throws -> JSONValue {
        try check(APIAccess("patch", subresource.map { "\(d.plural)/\($0)" } ?? d.plural, group: d.group))
        guard patchType == .merge else {
            throw Status.unsupportedMediaType("the in-memory API server applies merge patches only, not \(patchType)")
        }
        let key = key(d, namespace, name)
        guard let stored = objects[d.description]?[key] else { throw Status.notFound(d, name: name) }
        var value = Self.mergePatch(stored, patch)
        value["metadata"] = stored["metadata"].map { Self.keepingServerFields($0, from: value["metadata"]) }
        if subresource == "status" {
            var only = stored
            only["status"] = value["status"]
            value = only
        } else if d.hasStatus {
            value["status"] = stored["status"]
        }
        try validate(value)
        return try write(d, key: key, old: stored, new: value)
    }

    private func write(_ d: ResourceDescriptor, key: ObjectKey, old: JSONValue, new: JSONValue) throws -> JSONValue {
        guard old != new else { return old }
        var value = new
        if old["spec"] != new["spec"] {
            let generation = old.value(atPath: "metadata.generation")?.intValue ?? 1
            value["metadata"]?["generation"] = .int(generation + 1)
        }
        stamp(&value, descriptor: d, creating: false)
        objects[d.description, default: [:]][key] = value
        record(d, .modified, value)
        return value
    }

    private func remove(_ resource: String, _ key: ObjectKey) {
        guard var value = objects[resource]?.removeValue(forKey: key) else { return }
        revision += 1
        value["metadata"]?["resourceVersion"] = .string(String(revision))
        append(Change(revision: revision, resource: resource, type: .deleted, object: value))
        // Dependents go with their owner, as the garbage collector's background deletion does.
        guard let uid = value.value(atPath: "metadata.uid")?.stringValue else { return }
        for (dependentResource, stored) in objects {
            for (dependentKey, dependent) in stored
            where (dependent.value(atPath: "metadata.ownerReferences")?.arrayValue ?? []).contains(where: {
                $0["uid"]?.stringValue == uid
            }) {
                remove(dependentResource, dependentKey)
            }
        }
    }

    private func stamp(_ value: inout JSONValue, descriptor d: ResourceDescriptor, creating: Bool) {
        revision += 1
        var metadata = value["metadata"] ?? .object([:])
        if creating {
            if d.namespaced && metadata["namespace"] == nil { metadata["namespace"] = .string(defaultNamespace) }
            if metadata["uid"] == nil { metadata["uid"] = .string(UUID().uuidString.lowercased()) }
            metadata["creationTimestamp"] = .string(Timestamp.now())
            metadata["generation"] = .int(1)
        }
        metadata["resourceVersion"] = .string(String(revision))
        value["metadata"] = metadata
    }

    private func record(_ d: ResourceDescriptor, _ type: WatchEventType, _ value: JSONValue) {
        append(Change(revision: revision, resource: d.description, type: type, object: value))
    }

    private func append(_ change: Change) {
        history.append(change)
        if history.count > historyLimit {
            let dropped = history.removeFirst()
            oldestKept = dropped.revision
        }
        let key = Self.key(of: change.object)
        for watcher in watchers.values
        where watcher.resource == change.resource
            && Self.matches(
                change.object, key: key, namespace: watcher.namespace, labels: watcher.labels, fields: watcher.fields)
        {
            watcher.send(change.type, change.object)
        }
    }

    private func check(_ access: APIAccess) throws {
        requests.append(access)
        if var pending = failures[access], !pending.isEmpty {
            let status = pending.removeFirst()
            failures[access] = pending
            throw status
        }
    }

    private func key(_ d: ResourceDescriptor, _ namespace: String?, _ name: String) -> ObjectKey {
        ObjectKey(namespace: d.namespaced ? (namespace ?? defaultNamespace) : nil, name: name)
    }

    private func selectors(
        _ d: ResourceDescriptor, _ labelSelector: String?, _ fieldSelector: String?
    ) throws -> (LabelSelector?, FieldSelector?) {
        do {
            return (
                try labelSelector.map { text throws(FieldError) in try LabelSelector.parse(text) },
                try fieldSelector.map { text throws(FieldError) in try FieldSelector.parse(text, kind: d.kind) }
            )
        } catch {
            throw Status.badRequest("\(error)")
        }
    }

    private func validated<T: KubernetesResource>(_ value: JSONValue, as type: T.Type) throws -> T {
        do {
            return try ObjectDecoding.decode(value, as: T.self)
        } catch {
            throw Status.invalid(T.descriptor, name: error.name, errors: error.errors)
        }
    }

    private func decode<T: KubernetesResource>(_ value: JSONValue, as type: T.Type) throws -> T {
        do {
            return try value.decode(as: T.self)
        } catch {
            throw Status(message: "cannot decode \(T.descriptor.kind): \(error)", reason: "DecodeError", code: 500)
        }
    }

    static func key(of value: JSONValue) -> ObjectKey {
        ObjectKey(
            namespace: value.value(atPath: "metadata.namespace")?.stringValue,
            name: value.value(atPath: "metadata.name")?.stringValue ?? "")
    }

    static func matches(
        _ value: JSONValue, key: ObjectKey, namespace: String?, labels: LabelSelector?, fields: FieldSelector?
    ) -> Bool {
        if let namespace, key.namespace != namespace { return false }
        if let labels {
            let members = value.value(atPath: "metadata.labels")?.objectValue ?? [:]
            guard labels.matches(members.compactMapValues(\.stringValue)) else { return false }
        }
        return fields?.matches(value) ?? true
    }

    /// `metadata` as a client sent it, with the fields only the server sets taken from what is stored.
    static func keepingServerFields(_ stored: JSONValue, from sent: JSONValue?) -> JSONValue {
        var metadata = sent ?? stored
        for field in ["uid", "creationTimestamp", "generation", "namespace", "name", "resourceVersion"] {
            metadata[field] = stored[field]
        }
        return metadata
    }

    /// RFC 7386 JSON merge patch: objects merge member by member, null removes, anything else replaces.
    static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, change) in changes {
            if change == .null {
                result[key] = nil
            } else {
                result[key] = mergePatch(result[key] ?? .null, change)
            }
        }
        return .object(result)
    }
}
