import StarlingAPI

/// One kind of request a component makes: an RBAC verb on a resource (`pods`, `modelservices/status`) of an API
/// group. Components declare theirs, the shipped RBAC roles are built from the declarations, and a test checks
/// that what a component sends is exactly what it declares.
public struct APIAccess: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The API group, "" for core.
    public var group: String
    /// The plural resource, with `/subresource` when one is addressed.
    public var resource: String
    /// `get`, `list`, `watch`, `create`, `update`, `patch` or `delete`.
    public var verb: String

    public init(_ verb: String, _ resource: String, group: String = "") {
        self.group = group
        self.resource = resource
        self.verb = verb
    }

    /// Every verb in `verbs` on `descriptor`'s resource (or one of its subresources).
    public static func on(
        _ descriptor: ResourceDescriptor, subresource: String? = nil, _ verbs: String...
    ) -> [APIAccess] {
        let resource = subresource.map { "\(descriptor.plural)/\($0)" } ?? descriptor.plural
        return verbs.map { APIAccess($0, resource, group: descriptor.group) }
    }

    public var description: String { "\(verb) \(group.isEmpty ? "" : group + "/")\(resource)" }

    public static func < (a: APIAccess, b: APIAccess) -> Bool {
        (a.group, a.resource, a.verb) < (b.group, b.resource, b.verb)
    }

    /// The access a request is: RBAC's verb for the method and path (`GET` of a collection is `list`, or `watch`
    /// with `watch=true`). Nil for paths outside the resource API (discovery, `/healthz`).
    public static func of(method: String, path: String, watch: Bool) -> APIAccess? {
        var parts = path.split(separator: "?")[0].split(separator: "/").map(String.init)
        let group: String
        if parts.first == "api", parts.count >= 3 {
            group = ""
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 4 {
            group = parts[1]
            parts.removeFirst(3)
        } else {
            return nil
        }
        if parts.first == "namespaces", parts.count >= 3 { parts.removeFirst(2) }
        guard let plural = parts.first else { return nil }
        let named = parts.count >= 2
        let resource = parts.count >= 3 ? "\(plural)/\(parts[2])" : plural
        let verb: String
        switch method {
        case "GET": verb = watch ? "watch" : (named ? "get" : "list")
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = named ? "delete" : "deletecollection"
        default: return nil
        }
        return APIAccess(verb, resource, group: group)
    }
}

/// Records the accesses a client makes, for the test that compares them with a component's declaration.
public actor APIAccessLog {
    public private(set) var seen: Set<APIAccess> = []

    public init() {}

    func record(_ access: APIAccess) { seen.insert(access) }
}
