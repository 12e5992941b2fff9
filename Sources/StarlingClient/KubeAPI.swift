import StarlingAPI

/// The requests Starling's components make of an API server. `KubeClient` sends them over HTTP to the embedded API
/// server or a kube-apiserver; an in-memory implementation (`InMemoryKubeAPI` in the test support) serves fast
/// controller tests. Components take `any KubeAPI`, so the same code runs on each.
public protocol KubeAPI: Sendable {
    /// The namespace a namespaced request uses when none is given.
    var defaultNamespace: String { get }

    /// One object; a missing one throws a 404 `Status`.
    func get<T: KubernetesResource>(_ type: T.Type, namespace: String?, name: String) async throws -> T

    /// Every object of a kind (`namespace` nil: every namespace) as one consistent snapshot, with the objects
    /// this build cannot decode returned apart.
    func listReportingUndecodable<T: KubernetesResource>(
        _ type: T.Type, namespace: String?, labelSelector: String?, fieldSelector: String?
    ) async throws -> (list: ObjectList<T>, undecodable: [UndecodableObject])

    func create<T: KubernetesResource>(_ object: T) async throws -> T

    /// Replaces an object; a stale `resourceVersion` throws a 409 `Status`.
    func update<T: KubernetesResource>(_ object: T) async throws -> T

    func patch<T: KubernetesResource>(
        _ type: T.Type, namespace: String?, name: String, patch: JSONValue, patchType: PatchType,
        subresource: String?
    ) async throws -> T

    /// A patch of an object that may not decode as any type this build knows.
    func patchRaw(
        _ d: ResourceDescriptor, namespace: String?, name: String, patch: JSONValue, patchType: PatchType,
        subresource: String?
    ) async throws -> JSONValue

    func delete<T: KubernetesResource>(
        _ type: T.Type, namespace: String?, name: String, options: DeleteOptions
    ) async throws

    /// Changes from `resourceVersion` on; the stream ends when the server closes the watch, and a 410 (history
    /// expired) or other failure is thrown as a `Status`.
    func watch<T: KubernetesResource>(
        _ type: T.Type, namespace: String?, resourceVersion: String?, labelSelector: String?,
        fieldSelector: String?, allowBookmarks: Bool, timeoutSeconds: Int?
    ) -> AsyncThrowingStream<WatchUpdate<T>, any Error>

    /// Whether the server serves `descriptor`'s resource (discovery).
    func serves(_ descriptor: ResourceDescriptor) async throws -> Bool
}

extension KubeAPI {
    public func get<T: KubernetesResource>(_ type: T.Type, name: String) async throws -> T {
        try await get(type, namespace: nil, name: name)
    }

    /// Lists objects, every page of one list (a consistent snapshot); `namespace` nil lists every namespace. An
    /// object this build cannot decode fails the list with its field path.
    public func list<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil
    ) async throws -> ObjectList<T> {
        let (list, undecodable) = try await listReportingUndecodable(
            type, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
        if let first = undecodable.first {
            throw Status(message: "cannot decode \(T.descriptor.kind) \(first)", reason: "DecodeError", code: 500)
        }
        return list
    }

    public func patch<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, name: String, patch: JSONValue, subresource: String? = nil
    ) async throws -> T {
        try await self.patch(
            type, namespace: namespace, name: name, patch: patch, patchType: .merge, subresource: subresource)
    }

    public func delete<T: KubernetesResource>(_ type: T.Type, namespace: String? = nil, name: String) async throws {
        try await delete(type, namespace: namespace, name: name, options: DeleteOptions())
    }

    /// Writes `status` through the `status` subresource as a JSON merge patch of the fields the writer owns: every
    /// field of `S` is set to its value, or cleared (null) when it has none; fields outside `S` — written by
    /// another component, or by a newer version of the kind — are left as they are, which a whole-object PUT of a
    /// decoded copy would wipe. Fields in `excluding` belong to another writer (the autoscaler's
    /// `status.autoscaling`) and are left out of the patch. With `previous` (the status the writer last read),
    /// an object-valued field is patched key by key, so that keys it no longer has are removed.
    public func patchStatus<T: KubernetesResource, S: Codable>(
        _ type: T.Type, namespace: String?, name: String, status: S, previous: S? = nil, excluding: Set<String> = []
    ) async throws -> T {
        var members = try JSONValue(encoding: status).objectValue ?? [:]
        for field in try ownedStatusFields(of: S.self) where members[field] == nil { members[field] = .null }
        // A merge patch merges nested objects, so keys an object field lost since `previous` are nulled too.
        let old = try previous.map { try JSONValue(encoding: $0).objectValue ?? [:] } ?? [:]
        for (field, value) in members {
            if case .object = value, let before = old[field] { members[field] = value.mergePatch(from: before) }
        }
        for field in excluding { members[field] = nil }
        return try await patch(
            T.self, namespace: namespace, name: name, patch: .object(["status": .object(members)]),
            patchType: .merge, subresource: "status")
    }

    /// The top-level fields of a status type, from its schema.
    func ownedStatusFields<S: Decodable>(of type: S.Type) throws -> [String] {
        (try OpenAPISchema.of(type)["properties"]?.objectValue?.keys).map { Array($0).sorted() } ?? []
    }
}

extension KubeClient: KubeAPI {}
