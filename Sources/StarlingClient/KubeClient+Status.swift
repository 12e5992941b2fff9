import StarlingAPI

extension KubeClient {
    /// Writes `status` through the `status` subresource as a JSON merge patch of the fields the writer owns: every
    /// field of `S` is set to its value, or cleared (null) when it has none; fields outside `S` — written by
    /// another component, or by a newer version of the kind — are left as they are, which a whole-object PUT of a
    /// decoded copy would wipe.
    public func patchStatus<T: KubernetesResource, S: Codable>(
        _ type: T.Type, namespace: String?, name: String, status: S
    ) async throws -> T {
        var members = try JSONValue(encoding: status).objectValue ?? [:]
        for field in try Self.ownedFields(of: S.self) where members[field] == nil { members[field] = .null }
        return try await patch(
            T.self, namespace: namespace, name: name, patch: .object(["status": .object(members)]),
            patchType: .merge, subresource: "status")
    }

    /// The top-level fields of a status type, from its schema.
    static func ownedFields<S: Decodable>(of type: S.Type) throws -> [String] {
        (try OpenAPISchema.of(type)["properties"]?.objectValue?.keys).map { Array($0).sorted() } ?? []
    }
}
