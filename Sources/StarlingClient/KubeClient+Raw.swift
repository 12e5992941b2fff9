import Foundation
import StarlingAPI

/// Verbs over untyped objects, for commands that handle any kind (`apply`, `get`, `delete`).
extension KubeClient {
    func namespaceFor(_ d: ResourceDescriptor, _ namespace: String?) -> String? {
        d.namespaced ? (namespace ?? defaultNamespace) : nil
    }

    public func getRaw(_ d: ResourceDescriptor, namespace: String?, name: String) async throws -> JSONValue {
        try JSONValue.parse(try await send(.GET, path: d.path(namespace: namespaceFor(d, namespace), name: name)))
    }

    /// Lists a kind; `namespace` nil means all namespaces.
    public func listRaw(
        _ d: ResourceDescriptor, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil
    )
        async throws -> JSONValue
    {
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        return try JSONValue.parse(
            try await send(.GET, path: d.path(namespace: d.namespaced ? namespace : nil), query: query))
    }

    public func createRaw(_ d: ResourceDescriptor, namespace: String?, object: JSONValue) async throws -> JSONValue {
        try JSONValue.parse(
            try await send(.POST, path: d.path(namespace: namespaceFor(d, namespace)), body: try object.data()))
    }

    public func patchRaw(
        _ d: ResourceDescriptor, namespace: String?, name: String, patch: JSONValue, patchType: PatchType = .merge,
        subresource: String? = nil
    ) async throws -> JSONValue {
        try JSONValue.parse(
            try await send(
                .PATCH, path: d.path(namespace: namespaceFor(d, namespace), name: name, subresource: subresource),
                body: try patch.data(), contentType: patchType.rawValue))
    }

    public func deleteRaw(
        _ d: ResourceDescriptor, namespace: String?, name: String, options: DeleteOptions = DeleteOptions()
    )
        async throws -> JSONValue
    {
        try JSONValue.parse(
            try await send(
                .DELETE, path: d.path(namespace: namespaceFor(d, namespace), name: name), body: try Self.encode(options)
            ))
    }
}
