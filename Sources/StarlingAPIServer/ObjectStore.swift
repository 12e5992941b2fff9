import Foundation
import Logging
import StarlingAPI

/// The API server's state: objects in SQLite (WAL), a global resourceVersion, a bounded history of changes
/// for watches, and the Kubernetes rules for writes (optimistic concurrency, generation, subresources,
/// finalizers, graceful pod deletion, owner-reference garbage collection).
///
/// All logic runs inside the actor, so each request is atomic with respect to every other.
public actor ObjectStore {
    let db: SQLiteDatabase
    let handlers: [String: ResourceHandler]
    let historyLimit: Int
    /// Ceilings on the work one object may ask for, checked on every write.
    public let limits: ObjectLimits
    let logger: Logger
    var currentRV: Int64 = 0
    /// Every change with an rv at or below this has been compacted away.
    var compactedRV: Int64 = 0
    var watchers: [Int: Watcher] = [:]
    var nextWatcherID = 0
    /// False once a server serving the store has begun to shut down: a watch started then ends at once, since one
    /// that stayed open would hold the shutdown until its timeout.
    var acceptingWatches = true
    /// The rest of paged lists, for consistent continue tokens.
    var snapshots = ListSnapshots()

    /// Opens the store at `path` (a SQLite file; nil for in-memory) keeping `historyLimit` changes for watches and
    /// refusing objects beyond `limits`.
    public init(
        path: String?, historyLimit: Int = 10_000, limits: ObjectLimits = .default,
        logger: Logger = Logger(label: "starling.store")
    ) throws {
        db = try SQLiteDatabase(path: path)
        self.limits = limits
        handlers = Dictionary(uniqueKeysWithValues: ResourceHandler.all.map { ($0.resourceKey, $0) })
        self.historyLimit = max(1, historyLimit)
        self.logger = logger
        try db.execute(
            """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS objects (
                resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                rv INTEGER NOT NULL, uid TEXT NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (resource, namespace, name));
            CREATE INDEX IF NOT EXISTS objects_uid ON objects(uid);
            CREATE TABLE IF NOT EXISTS changes (
                rv INTEGER PRIMARY KEY, resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                type TEXT NOT NULL, data BLOB NOT NULL, prev BLOB);
            CREATE INDEX IF NOT EXISTS changes_resource ON changes(resource, rv);
            CREATE TABLE IF NOT EXISTS owners (
                owner_uid TEXT NOT NULL, resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                PRIMARY KEY (owner_uid, resource, namespace, name));
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """)
        var rv: Int64 = 0
        var compacted: Int64 = 0
        try db.query("SELECT value FROM meta WHERE key = 'rv'") { rv = $0.int(0) }
        try db.query("SELECT value FROM meta WHERE key = 'compacted'") { compacted = $0.int(0) }
        currentRV = rv
        compactedRV = compacted
    }

    /// The latest resourceVersion.
    public var resourceVersion: Int64 { currentRV }

    func handler(for descriptor: ResourceDescriptor) throws(Status) -> ResourceHandler {
        guard let h = handlers[descriptor.description] else { throw Status.pathNotFound(descriptor.description) }
        return h
    }

    // MARK: Reading

    struct Record {
        var resource: String
        var namespace: String
        var name: String
        var rv: Int64
        var data: Data
    }

    func record(_ resource: String, _ namespace: String, _ name: String) throws(Status) -> Record? {
        var found: Record?
        do {
            try db.query(
                "SELECT rv, data FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                [.text(resource), .text(namespace), .text(name)]
            ) { row in
                found = Record(resource: resource, namespace: namespace, name: name, rv: row.int(0), data: row.blob(1))
            }
        } catch {
            throw Status.internalError("\(error)")
        }
        return found
    }

    func parse(_ data: Data) throws(Status) -> JSONValue {
        do { return try JSONValue.parse(data) } catch { throw Status.internalError("corrupt stored object: \(error)") }
    }

    /// Reads one object.
    public func get(_ descriptor: ResourceDescriptor, namespace: String?, name: String) throws(Status) -> Data {
        let h = try handler(for: descriptor)
        guard let r = try record(h.resourceKey, namespace ?? "", name) else {
            throw Status.notFound(descriptor, name: name)
        }
        return r.data
    }

    /// Reads one object as a value.
    public func getValue(_ descriptor: ResourceDescriptor, namespace: String?, name: String) throws(Status) -> JSONValue
    {
        try parse(get(descriptor, namespace: namespace, name: name))
    }

    /// A page of a list.
    public struct ListResult: Sendable {
        public var items: [Data]
        public var resourceVersion: Int64
        public var continueToken: String?
    }

    /// Lists objects of a kind in a namespace (nil: all), filtered by selectors, in name order, paged by `limit`.
    public func list(
        _ descriptor: ResourceDescriptor, namespace: String?, labelSelector: LabelSelector? = nil,
        fieldSelector: FieldSelector? = nil, limit: Int? = nil, continueToken: String? = nil
    ) throws(Status) -> ListResult {
        let h = try handler(for: descriptor)
        if let continueToken {
            // A later page: from the first page's snapshot, whatever changed since (410 when it has expired).
            let page = try snapshots.page(continueToken, limit: limit, now: .now)
            return ListResult(items: page.items, resourceVersion: page.resourceVersion, continueToken: page.next)
        }
        var sql = "SELECT namespace, name, data FROM objects WHERE resource = ?"
        var params: [SQLiteDatabase.Value] = [.text(h.resourceKey)]
        if let namespace {
            sql += " AND namespace = ?"
            params.append(.text(namespace))
        }
        sql += " ORDER BY namespace || '/' || name"
        var items: [Data] = []
        let needsParse = !(labelSelector?.isEmpty ?? true) || !(fieldSelector?.terms.isEmpty ?? true)
        var parseError: Status?
        do {
            try db.query(sql, params) { row in
                let data = row.blob(2)
                if needsParse {
                    guard let value = try? JSONValue.parse(data) else {
                        parseError = Status.internalError("corrupt stored object \(row.text(1))")
                        return
                    }
                    if let labelSelector, !labelSelector.matches(Self.labels(of: value)) { return }
                    if let fieldSelector, !fieldSelector.matches(value) { return }
                }
                items.append(data)
            }
        } catch {
            throw Status.internalError("\(error)")
        }
        if let parseError { throw parseError }
        guard let limit, items.count > limit else {
            return ListResult(items: items, resourceVersion: currentRV, continueToken: nil)
        }
        let token = snapshots.store(Array(items[limit...]), resourceVersion: currentRV, now: .now)
        return ListResult(items: Array(items[..<limit]), resourceVersion: currentRV, continueToken: token)
    }

    static func labels(of value: JSONValue) -> [String: String] {
        var labels: [String: String] = [:]
        for (k, v) in value.value(atPath: "metadata.labels")?.objectValue ?? [:] {
            if let s = v.stringValue { labels[k] = s }
        }
        return labels
    }

    // MARK: Writing primitives

    /// The state an object had before a modification, with the bytes it was stored as (so the write path does not
    /// encode it again).
    struct PreviousState {
        var value: JSONValue
        var data: Data
    }

    /// Writes `value` (already carrying everything but its new resourceVersion) and records the change.
    /// `previous` matters only for modifications (selector-aware watch events); additions and deletions have none.
    @discardableResult
    func write(
        _ h: ResourceHandler, _ value: JSONValue, type: WatchEventType, previous: PreviousState?
    ) throws(Status) -> JSONValue {
        var value = value
        let rv = currentRV + 1
        value["metadata"]?["resourceVersion"] = .string(String(rv))
        let namespace = value.value(atPath: "metadata.namespace")?.stringValue ?? ""
        let name = value.value(atPath: "metadata.name")?.stringValue ?? ""
        let uid = value.value(atPath: "metadata.uid")?.stringValue ?? ""
        let data: Data
        let prevData = type == .modified ? previous?.data : nil
        do {
            data = try value.data()
        } catch {
            throw Status.internalError("cannot encode object: \(error)")
        }
        let key: [SQLiteDatabase.Value] = [.text(h.resourceKey), .text(namespace), .text(name)]
        do {
            try db.transaction {
                if type == .deleted {
                    try db.query("DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?", key)
                } else {
                    try db.query(
                        "INSERT OR REPLACE INTO objects (resource, namespace, name, rv, uid, data) VALUES (?, ?, ?, ?, ?, ?)",
                        key + [.int(rv), .text(uid), .blob(data)])
                }
                try db.query("DELETE FROM owners WHERE resource = ? AND namespace = ? AND name = ?", key)
                if type != .deleted {
                    for owner in value.value(atPath: "metadata.ownerReferences")?.arrayValue ?? [] {
                        if let ownerUID = owner["uid"]?.stringValue {
                            try db.query(
                                "INSERT OR IGNORE INTO owners (owner_uid, resource, namespace, name) VALUES (?, ?, ?, ?)",
                                [.text(ownerUID)] + key)
                        }
                    }
                }
                try db.query(
                    "INSERT INTO changes (rv, resource, namespace, name, type, data, prev) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [.int(rv)] + key + [.text(type.rawValue), .blob(data), prevData.map { .blob($0) } ?? .null])
                try db.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('rv', ?)", [.int(rv)])
                if rv - compactedRV > Int64(historyLimit) + Int64(historyLimit / 10) {
                    let newCompacted = rv - Int64(historyLimit)
                    try db.query("DELETE FROM changes WHERE rv <= ?", [.int(newCompacted)])
                    try db.query(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES ('compacted', ?)", [.int(newCompacted)])
                }
            }
        } catch {
            throw Status.internalError("storage write failed: \(error)")
        }
        currentRV = rv
        if rv - compactedRV > Int64(historyLimit) + Int64(historyLimit / 10) {
            compactedRV = rv - Int64(historyLimit)
        }
        broadcast(
            Change(
                rv: rv, resource: h.resourceKey, namespace: namespace, type: type, object: value, objectData: data,
                previous: type == .modified ? previous?.value : nil))
        return value
    }

    // MARK: Create

    /// Creates an object from a request body. `namespace` is the namespace in the path.
    public func create(
        _ descriptor: ResourceDescriptor, namespace: String?, body: JSONValue
    ) throws(Status) -> JSONValue {
        let h = try handler(for: descriptor)
        var object = try checkTypeMeta(body, descriptor)
        var meta = object["metadata"]?.objectValue ?? [:]
        if descriptor.namespaced {
            let ns = namespace ?? meta["namespace"]?.stringValue ?? WellKnown.defaultNamespace
            if let given = meta["namespace"]?.stringValue, !given.isEmpty, given != ns {
                throw Status.badRequest(
                    "the namespace of the provided object (\(given)) does not match the namespace sent on the request (\(ns))"
                )
            }
            let nsErrors = Validation.dnsLabelErrors(ns, path: "metadata.namespace")
            if !nsErrors.isEmpty {
                throw Status.invalid(descriptor, name: meta["name"]?.stringValue ?? "", errors: nsErrors)
            }
            meta["namespace"] = .string(ns)
        } else {
            meta.removeValue(forKey: "namespace")
        }
        if meta["name"]?.stringValue?.isEmpty ?? true {
            guard let prefix = meta["generateName"]?.stringValue, !prefix.isEmpty else {
                throw Status.invalid(
                    descriptor, name: "",
                    errors: [FieldError("metadata.name", "Required value: name or generateName is required")])
            }
            meta["name"] = .string(prefix + Self.randomSuffix())
        }
        let name = meta["name"]!.stringValue!
        let nameErrors = Validation.dnsSubdomainErrors(name, path: "metadata.name")
        if !nameErrors.isEmpty { throw Status.invalid(descriptor, name: name, errors: nameErrors) }
        if try record(h.resourceKey, meta["namespace"]?.stringValue ?? "", name) != nil {
            throw Status.alreadyExists(descriptor, name: name)
        }
        meta["uid"] = .string(UUID().uuidString.lowercased())
        meta["creationTimestamp"] = .string(Timestamp.now())
        meta["generation"] = .int(1)
        for k in ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"] {
            meta.removeValue(forKey: k)
        }
        object["metadata"] = .object(meta)
        if descriptor.hasStatus && descriptor.kind != "Node" {
            object["status"] = descriptor.kind == "Pod" ? .object(["phase": .string("Pending")]) : nil
        }
        object = try normalize(h, object)
        let created = try write(h, object, type: .added, previous: nil)
        // An object made for an owner that is already gone is the garbage collector's at once, as kube-controller-
        // manager's collector deletes a dependent none of whose owners exists (a controller acting on a stale cache
        // would otherwise leave it, and what it holds, behind for good).
        let owners = (created.value(atPath: "metadata.ownerReferences")?.arrayValue ?? []).compactMap {
            $0["uid"]?.stringValue
        }
        var ownersGone = !owners.isEmpty
        for uid in owners where try location(ofUID: uid) != nil { ownersGone = false }
        if ownersGone {
            try remove(h, created)
            logger.notice(
                "deleted an object made for owners that are gone",
                metadata: [
                    "object": "\(h.descriptor.description)/\(name)", "owner.uids": "\(owners.joined(separator: ","))",
                ])
        }
        return created
    }

    /// Where the stored object with `uid` is, if there is one.
    func location(ofUID uid: String) throws(Status) -> (resource: String, namespace: String, name: String)? {
        var found: (resource: String, namespace: String, name: String)?
        do {
            try db.query("SELECT resource, namespace, name FROM objects WHERE uid = ? LIMIT 1", [.text(uid)]) { row in
                found = (row.text(0), row.text(1), row.text(2))
            }
        } catch {
            throw Status.internalError("\(error)")
        }
        return found
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    func checkTypeMeta(_ body: JSONValue, _ descriptor: ResourceDescriptor) throws(Status) -> JSONValue {
        guard case .object = body else { throw Status.badRequest("the request body must be a JSON object") }
        var object = body
        if let kind = object["kind"]?.stringValue, kind != descriptor.kind {
            throw Status.badRequest(
                "the kind of the provided object (\(kind)) does not match the path (\(descriptor.kind))")
        }
        if let apiVersion = object["apiVersion"]?.stringValue, apiVersion != descriptor.apiVersion {
            throw Status.badRequest(
                "the apiVersion of the provided object (\(apiVersion)) does not match the path (\(descriptor.apiVersion))"
            )
        }
        object["kind"] = .string(descriptor.kind)
        object["apiVersion"] = .string(descriptor.apiVersion)
        if object["metadata"] == nil { object["metadata"] = .object([:]) }
        return object
    }

    /// Decodes, validates and re-encodes `object`. Limits are checked only where the write changes what they bound
    /// (`previous` is the stored object), so that lowering a limit never blocks status writes to older objects.
    func normalize(_ h: ResourceHandler, _ object: JSONValue, previous: JSONValue? = nil) throws(Status) -> JSONValue {
        let name = object.value(atPath: "metadata.name")?.stringValue ?? ""
        let normalized: JSONValue
        do {
            normalized = try h.normalize(object)
        } catch {
            throw Status.invalid(h.descriptor, name: name, errors: error.errors)
        }
        if h.descriptor.kind == ModelService.descriptor.kind,
            normalized.value(atPath: "spec.server.engine") == .string(Engine.image.rawValue)
        {
            // The schema allows it (a Kubernetes cluster runs containers); this cluster runs local processes only.
            throw Status.invalid(
                h.descriptor, name: name,
                errors: [
                    FieldError(
                        "spec.server.engine",
                        "Unsupported value: \"image\": the embedded cluster runs local processes (engine sim or "
                            + "command); containers need a Kubernetes cluster and `starling operator`")
                ])
        }
        let bounded = ["spec.replicas", "spec.group.size"]
        let changed = previous.map { old in bounded.contains { normalized.value(atPath: $0) != old.value(atPath: $0) } }
        let beyond = changed == false ? [] : limits.errors(kind: h.descriptor.kind, object: normalized)
        if !beyond.isEmpty { throw Status.invalid(h.descriptor, name: name, errors: beyond) }
        return normalized
    }

    // MARK: Update

    /// Which part of an object an update may change.
    public enum UpdateScope: Sendable {
        /// The main resource: everything but `status` (for kinds with a status subresource).
        case main
        /// The status subresource: only `status`.
        case status
    }

    /// Replaces an object (PUT). The body's resourceVersion must match the stored one.
    public func update(
        _ descriptor: ResourceDescriptor, namespace: String?, name: String, body: JSONValue, scope: UpdateScope = .main
    ) throws(Status) -> JSONValue {
        let h = try handler(for: descriptor)
        guard let current = try record(h.resourceKey, namespace ?? "", name) else {
            throw Status.notFound(descriptor, name: name)
        }
        let body = try checkTypeMeta(body, descriptor)
        if let bodyName = body.value(atPath: "metadata.name")?.stringValue, !bodyName.isEmpty, bodyName != name {
            throw Status.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        guard let rv = body.value(atPath: "metadata.resourceVersion")?.stringValue, !rv.isEmpty else {
            throw Status.invalid(
                descriptor, name: name,
                errors: [FieldError("metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")])
        }
        return try applyUpdate(h, current: current, desired: body, expectedRV: rv, scope: scope)
    }

    /// The common path of update and patch: carries server-owned fields over, checks the resourceVersion,
    /// bumps generation on spec changes, and finalises deletion when the last finalizer goes.
    func applyUpdate(
        _ h: ResourceHandler, current: Record, desired: JSONValue, expectedRV: String?, scope: UpdateScope
    ) throws(Status) -> JSONValue {
        let descriptor = h.descriptor
        if let expectedRV, expectedRV != String(current.rv) {
            throw Status.conflict(
                descriptor, name: current.name,
                detail: "the object has been modified; please apply your changes to the latest version and try again")
        }
        let old = try parse(current.data)
        var new: JSONValue
        switch scope {
        case .status:
            new = old
            new["status"] = desired["status"]
        case .main:
            new = desired
            if descriptor.hasStatus { new["status"] = old["status"] }
            var meta = desired["metadata"]?.objectValue ?? [:]
            let oldMeta = old["metadata"]?.objectValue ?? [:]
            for k in [
                "name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                meta[k] = oldMeta[k]
            }
            meta.removeValue(forKey: "managedFields")
            meta.removeValue(forKey: "selfLink")
            new["metadata"] = .object(meta)
            if descriptor.kind == "Pod",
                old.value(atPath: "spec.nodeName") != nil,
                new.value(atPath: "spec.nodeName") != old.value(atPath: "spec.nodeName")
            {
                throw Status.invalid(
                    descriptor, name: current.name,
                    errors: [FieldError("spec.nodeName", "field is immutable once set; use the binding subresource")])
            }
            if oldMeta["deletionTimestamp"] != nil {
                let oldFinalizers = Set(oldMeta["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                let newFinalizers = Set(meta["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                if !newFinalizers.isSubset(of: oldFinalizers) {
                    throw Status.invalid(
                        descriptor, name: current.name,
                        errors: [
                            FieldError(
                                "metadata.finalizers",
                                "Forbidden: no new finalizers can be added if the object is being deleted")
                        ])
                }
            }
        }
        new["metadata"]?["resourceVersion"] = .string(String(current.rv))
        new = try normalize(h, new, previous: old)
        if Self.specPart(new) != Self.specPart(old) {
            let generation = old.value(atPath: "metadata.generation")?.intValue ?? 1
            new["metadata"]?["generation"] = .int(generation + 1)
        }
        if new == old { return old }
        if new.value(atPath: "metadata.deletionTimestamp") != nil
            && (new.value(atPath: "metadata.finalizers")?.arrayValue ?? []).isEmpty
            && !isGracefullyTerminatingPod(new)
        {
            return try remove(h, new)
        }
        return try write(h, new, type: .modified, previous: PreviousState(value: old, data: current.data))
    }

    /// Everything that counts for `metadata.generation`: the object without metadata and status.
    static func specPart(_ value: JSONValue) -> JSONValue {
        var v = value
        v["metadata"] = nil
        v["status"] = nil
        return v
    }

    // MARK: Patch

    /// Patch content types the server understands.
    public enum PatchType: String, Sendable {
        case merge = "application/merge-patch+json"
        /// Lists with merge keys merge item by item (`StrategicMergePatch`); 415 for custom resources.
        case strategicMerge = "application/strategic-merge-patch+json"
        case json = "application/json-patch+json"
    }

    /// Applies a patch to an object or its status.
    public func patch(
        _ descriptor: ResourceDescriptor, namespace: String?, name: String, patch: JSONValue, type: PatchType,
        scope: UpdateScope = .main
    ) throws(Status) -> JSONValue {
        let h = try handler(for: descriptor)
        guard let current = try record(h.resourceKey, namespace ?? "", name) else {
            throw Status.notFound(descriptor, name: name)
        }
        let old = try parse(current.data)
        let patched = try Self.apply(patch: patch, type: type, to: old, kind: descriptor.kind)
        let expected = patched.value(atPath: "metadata.resourceVersion")?.stringValue
        return try applyUpdate(
            h, current: current, desired: try checkTypeMeta(patched, descriptor),
            expectedRV: expected.flatMap { $0.isEmpty ? nil : $0 }, scope: scope)
    }

    static func apply(
        patch: JSONValue, type: PatchType, to value: JSONValue, kind: String
    ) throws(Status)
        -> JSONValue
    {
        switch type {
        case .strategicMerge:
            return try StrategicMergePatch.apply(patch, to: value, kind: kind)
        case .merge:
            guard case .object = patch else { throw Status.badRequest("a merge patch must be a JSON object") }
            return value.merging(patch: patch)
        case .json:
            do { return try JSONPatch.apply(patch, to: value) } catch { throw Status.badRequest("\(error)") }
        }
    }

    // MARK: Delete

    /// Deletes an object, honouring finalizers, graceful pod termination and the propagation policy.
    /// Returns the object as it stands after the call (still present when deletion is pending).
    public func delete(
        _ descriptor: ResourceDescriptor, namespace: String?, name: String, options: DeleteOptions = DeleteOptions()
    ) throws(Status) -> JSONValue {
        // One transaction for the object and everything its deletion cascades to: a crash mid-cascade leaves the
        // owner and all its dependents, or none of them.
        do {
            return try db.transaction { () throws(Status) -> JSONValue in
                try deleteInTransaction(descriptor, namespace: namespace, name: name, options: options)
            }
        } catch let status as Status {
            throw status
        } catch {
            throw Status.internalError("storage write failed: \(error)")
        }
    }

    func deleteInTransaction(
        _ descriptor: ResourceDescriptor, namespace: String?, name: String, options: DeleteOptions
    ) throws(Status) -> JSONValue {
        let h = try handler(for: descriptor)
        guard let current = try record(h.resourceKey, namespace ?? "", name) else {
            throw Status.notFound(descriptor, name: name)
        }
        var object = try parse(current.data)
        let original = PreviousState(value: object, data: current.data)
        if let pre = options.preconditions {
            if let uid = pre.uid, uid != object.value(atPath: "metadata.uid")?.stringValue {
                throw Status.conflict(
                    descriptor, name: name, detail: "Precondition failed: UID in precondition: \(uid)")
            }
            if let rv = pre.resourceVersion, rv != String(current.rv) {
                throw Status.conflict(
                    descriptor, name: name, detail: "Precondition failed: ResourceVersion in precondition: \(rv)")
            }
        }
        let policy = options.propagationPolicy ?? "Background"
        guard ["Background", "Foreground", "Orphan"].contains(policy) else {
            throw Status.badRequest(
                "propagationPolicy: Unsupported value: \"\(policy)\": supported values: \"Background\", \"Foreground\", \"Orphan\""
            )
        }
        let uid = object.value(atPath: "metadata.uid")?.stringValue ?? ""
        var finalizers = object.value(atPath: "metadata.finalizers")?.arrayValue?.compactMap(\.stringValue) ?? []
        let alreadyDeleting = object.value(atPath: "metadata.deletionTimestamp") != nil
        var changed = false
        if !alreadyDeleting {
            object["metadata"]?["deletionTimestamp"] = .string(Timestamp.now())
            changed = true
        }
        if policy == "Orphan" {
            try orphanDependents(of: uid)
        }
        if policy == "Foreground", try !dependents(of: uid).isEmpty,
            !finalizers.contains(WellKnown.foregroundDeletionFinalizer)
        {
            finalizers.append(WellKnown.foregroundDeletionFinalizer)
            object["metadata"]?["finalizers"] = .array(finalizers.map { .string($0) })
            changed = true
        }
        if descriptor.kind == "Pod" {
            let grace =
                options.gracePeriodSeconds ?? object.value(atPath: "spec.terminationGracePeriodSeconds")?.intValue ?? 30
            let bound = object.value(atPath: "spec.nodeName")?.stringValue.map { !$0.isEmpty } ?? false
            let phase = object.value(atPath: "status.phase")?.stringValue
            let terminal = phase == "Succeeded" || phase == "Failed"
            if bound && !terminal && grace > 0 {
                let previousGrace = object.value(atPath: "metadata.deletionGracePeriodSeconds")?.intValue
                if previousGrace == nil || grace < previousGrace! {
                    object["metadata"]?["deletionGracePeriodSeconds"] = .int(grace)
                    changed = true
                }
            } else {
                object["metadata"]?["deletionGracePeriodSeconds"] = .int(0)
                changed = true
            }
        }
        if finalizers.isEmpty && !isGracefullyTerminatingPod(object) {
            return try remove(h, object)
        }
        if changed {
            object = try write(h, object, type: .modified, previous: original)
        }
        if policy == "Foreground" { try deleteDependents(of: uid) }
        return object
    }

    /// A pod that has been asked to stop and is waiting for its node agent to confirm (grace period > 0).
    func isGracefullyTerminatingPod(_ object: JSONValue) -> Bool {
        guard object["kind"]?.stringValue == "Pod" else { return false }
        guard object.value(atPath: "metadata.deletionTimestamp") != nil else { return false }
        return (object.value(atPath: "metadata.deletionGracePeriodSeconds")?.intValue ?? 0) > 0
    }

    /// Removes the object for good and collects what depended on it.
    /// Deletes `object` for good and returns it as deleted: with the deletion's resourceVersion, which is what
    /// kube-apiserver answers a DELETE with and what watchers see in the DELETED event.
    @discardableResult
    func remove(_ h: ResourceHandler, _ object: JSONValue) throws(Status) -> JSONValue {
        let removed = try write(h, object, type: .deleted, previous: nil)
        let uid = object.value(atPath: "metadata.uid")?.stringValue ?? ""
        // Background propagation: dependents go after their owner.
        try deleteDependents(of: uid)
        // Foreground owners waiting for this dependent may now finish.
        for owner in object.value(atPath: "metadata.ownerReferences")?.arrayValue ?? [] {
            if let ownerUID = owner["uid"]?.stringValue { try finishForegroundDeletion(ownerUID: ownerUID) }
        }
        return removed
    }

    struct DependentKey: Hashable {
        var resource: String
        var namespace: String
        var name: String
    }

    func dependents(of uid: String) throws(Status) -> [DependentKey] {
        guard !uid.isEmpty else { return [] }
        var keys: [DependentKey] = []
        do {
            try db.query("SELECT resource, namespace, name FROM owners WHERE owner_uid = ?", [.text(uid)]) { row in
                keys.append(DependentKey(resource: row.text(0), namespace: row.text(1), name: row.text(2)))
            }
        } catch {
            throw Status.internalError("\(error)")
        }
        return keys
    }

    func deleteDependents(of uid: String) throws(Status) {
        for key in try dependents(of: uid) {
            guard let h = handlers[key.resource] else { continue }
            guard let r = try record(key.resource, key.namespace, key.name) else { continue }
            let value = try parse(r.data)
            if value.value(atPath: "metadata.deletionTimestamp") != nil { continue }
            _ = try? delete(
                h.descriptor, namespace: key.namespace.isEmpty ? nil : key.namespace, name: key.name,
                options: DeleteOptions(propagationPolicy: "Background"))
        }
    }

    /// Deletes every object whose owners (by uid) are all gone: what a crash between an owner's removal and its
    /// dependents' left before deletions became one transaction, or what a restore from an old copy brings back.
    /// Run at start-up, before serving; returns how many it deleted.
    @discardableResult
    public func collectGarbage() throws(Status) -> Int {
        var orphans: [DependentKey] = []
        do {
            try db.query(
                """
                SELECT DISTINCT o.resource, o.namespace, o.name FROM owners o
                WHERE NOT EXISTS (SELECT 1 FROM owners k JOIN objects ob ON ob.uid = k.owner_uid
                                  WHERE k.resource = o.resource AND k.namespace = o.namespace AND k.name = o.name)
                """, []
            ) { row in
                orphans.append(DependentKey(resource: row.text(0), namespace: row.text(1), name: row.text(2)))
            }
        } catch {
            throw Status.internalError("\(error)")
        }
        var deleted = 0
        for key in orphans {
            guard let h = handlers[key.resource] else { continue }
            _ = try? delete(
                h.descriptor, namespace: key.namespace.isEmpty ? nil : key.namespace, name: key.name,
                options: DeleteOptions(propagationPolicy: "Background"))
            deleted += 1
        }
        if deleted > 0 {
            logger.notice("deleted objects whose owners are gone", metadata: ["gc.deleted": "\(deleted)"])
        }
        return deleted
    }

    func orphanDependents(of uid: String) throws(Status) {
        for key in try dependents(of: uid) {
            guard let h = handlers[key.resource], let r = try record(key.resource, key.namespace, key.name) else {
                continue
            }
            let old = try parse(r.data)
            var value = old
            let refs = (value.value(atPath: "metadata.ownerReferences")?.arrayValue ?? []).filter {
                $0["uid"]?.stringValue != uid
            }
            value["metadata"]?["ownerReferences"] = refs.isEmpty ? nil : .array(refs)
            try write(h, value, type: .modified, previous: PreviousState(value: old, data: r.data))
        }
    }

    func finishForegroundDeletion(ownerUID: String) throws(Status) {
        guard let found = try location(ofUID: ownerUID), let h = handlers[found.resource],
            let r = try record(found.resource, found.namespace, found.name)
        else { return }
        let old = try parse(r.data)
        var finalizers = old.value(atPath: "metadata.finalizers")?.arrayValue?.compactMap(\.stringValue) ?? []
        guard old.value(atPath: "metadata.deletionTimestamp") != nil,
            finalizers.contains(WellKnown.foregroundDeletionFinalizer),
            try dependents(of: ownerUID).isEmpty
        else { return }
        finalizers.removeAll { $0 == WellKnown.foregroundDeletionFinalizer }
        var value = old
        value["metadata"]?["finalizers"] = finalizers.isEmpty ? nil : .array(finalizers.map { .string($0) })
        if finalizers.isEmpty && !isGracefullyTerminatingPod(value) {
            try remove(h, value)
        } else {
            try write(h, value, type: .modified, previous: PreviousState(value: old, data: r.data))
        }
    }
}
