import StarlingAPI

/// A request path parsed by the Kubernetes REST rules.
enum APIRequestPath: Equatable {
    case apiVersions
    case apiGroupList
    case apiGroup(String)
    case resourceList(group: String, version: String)
    case version
    case health
    case openAPI(String)
    case resource(ResourceTarget)

    /// What a resource path names: a collection, an object, or a subresource of an object.
    struct ResourceTarget: Equatable {
        var descriptor: ResourceDescriptor
        /// The namespace in the path; nil for all namespaces or cluster-scoped kinds.
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    /// Parses `path` against the known kinds. Returns nil for unknown paths.
    static func parse(_ path: String, descriptors: [ResourceDescriptor]) -> APIRequestPath? {
        let parts = path.split(separator: "/").map(String.init)
        switch parts.first {
        case nil: return nil
        case "version": return parts.count == 1 ? .version : nil
        case "healthz", "livez", "readyz": return .health
        case "openapi": return parts.count >= 2 ? .openAPI(parts[1...].joined(separator: "/")) : nil
        case "api":
            if parts.count == 1 { return .apiVersions }
            guard parts[1] == "v1" else { return nil }
            if parts.count == 2 { return .resourceList(group: "", version: "v1") }
            return resource(group: "", version: "v1", rest: Array(parts[2...]), descriptors: descriptors)
        case "apis":
            if parts.count == 1 { return .apiGroupList }
            if parts.count == 2 { return .apiGroup(parts[1]) }
            if parts.count == 3 { return .resourceList(group: parts[1], version: parts[2]) }
            return resource(group: parts[1], version: parts[2], rest: Array(parts[3...]), descriptors: descriptors)
        default:
            return nil
        }
    }

    private static func resource(
        group: String, version: String, rest: [String], descriptors: [ResourceDescriptor]
    ) -> APIRequestPath? {
        var rest = rest[...]
        var namespace: String?
        if rest.first == "namespaces" && rest.count >= 3 {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        guard let plural = rest.first,
            let descriptor = descriptors.first(where: {
                $0.group == group && $0.version == version && $0.plural == plural
            })
        else { return nil }
        if namespace != nil && !descriptor.namespaced { return nil }
        let name = rest.count > 1 ? rest[rest.startIndex + 1] : nil
        let sub = rest.count > 2 ? rest[rest.startIndex + 2] : nil
        if rest.count > 3 { return nil }
        return .resource(ResourceTarget(descriptor: descriptor, namespace: namespace, name: name, subresource: sub))
    }
}
