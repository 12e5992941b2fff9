/// Every kind Starling serves, and lookups by the names users type.
public enum ResourceTypes {
    public static let all: [any KubernetesResource.Type] = [
        ModelService.self, Pod.self, Node.self, Event.self, Lease.self, KubeService.self, InferencePool.self,
        InferenceObjective.self, InferenceModelRewrite.self, ResourceSlice.self, DeviceClass.self, ResourceClaim.self,
        ResourceClaimTemplate.self,
    ]

    /// The type for an `apiVersion` and `kind` pair.
    public static func type(apiVersion: String, kind: String) -> (any KubernetesResource.Type)? {
        all.first { $0.descriptor.apiVersion == apiVersion && $0.descriptor.kind == kind }
    }

    /// The type a user means by `pods`, `pod`, `po`, `Pod`, `modelservices.starling.dev` and so on.
    public static func type(named name: String) -> (any KubernetesResource.Type)? {
        let lower = name.lowercased()
        return all.first { t in
            let d = t.descriptor
            let names = [d.plural, d.singular, d.kind.lowercased(), d.description] + d.shortNames
            return names.contains(lower) || "\(d.plural).\(d.version).\(d.group)" == lower
        }
    }

    /// The names a user may type, for error messages.
    public static var knownNames: [String] { all.map { $0.descriptor.plural } }
}
