/// Where a kind of object lives in the REST API: group, version, plural, scope and subresources.
public struct ResourceDescriptor: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var hasStatus: Bool
    public var hasScale: Bool
    /// Categories for discovery (`all`).
    public var categories: [String]

    public init(
        group: String, version: String, kind: String, plural: String, singular: String, namespaced: Bool,
        shortNames: [String] = [], hasStatus: Bool = false, hasScale: Bool = false, categories: [String] = []
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = singular
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.hasStatus = hasStatus
        self.hasScale = hasScale
        self.categories = categories
    }

    /// `v1` for the core group, `group/version` otherwise.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `ModelServiceList` and so on.
    public var listKind: String { kind + "List" }

    /// `pods`, `modelservices.starling.dev`.
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The URL path prefix of the group version: `/api/v1` or `/apis/group/version`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The REST path of a collection, an object or a subresource.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = groupVersionPath
        if namespaced, let namespace { path += "/namespaces/\(namespace)" }
        path += "/\(plural)"
        if let name { path += "/\(name)" }
        if let subresource { path += "/\(subresource)" }
        return path
    }
}

/// A typed Kubernetes object that Starling stores or reads.
public protocol KubernetesResource: Codable, Sendable, Equatable {
    static var descriptor: ResourceDescriptor { get }
    var apiVersion: String? { get set }
    var kind: String? { get set }
    var metadata: ObjectMeta { get set }
    /// Field errors in this object, beyond what decoding checks. Empty when valid.
    func validate() -> [FieldError]
}

extension KubernetesResource {
    public func validate() -> [FieldError] { [] }

    /// Sets `apiVersion` and `kind` from the descriptor.
    public mutating func setTypeMeta() {
        apiVersion = Self.descriptor.apiVersion
        kind = Self.descriptor.kind
    }

    /// `namespace/name`, or `name` for cluster-scoped objects.
    public var key: String { ObjectKey(metadata).description }

    /// An owner reference pointing at this object.
    public func ownerReference(controller: Bool = true) -> OwnerReference {
        OwnerReference(
            apiVersion: Self.descriptor.apiVersion, kind: Self.descriptor.kind, name: metadata.nameOrEmpty,
            uid: metadata.uid ?? "", controller: controller, blockOwnerDeletion: controller)
    }
}

/// A namespace and name that identify an object.
public struct ObjectKey: Sendable, Hashable, CustomStringConvertible, Comparable {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public init(_ meta: ObjectMeta) {
        self.init(namespace: meta.namespace, name: meta.nameOrEmpty)
    }

    public var description: String {
        if let namespace, !namespace.isEmpty { return "\(namespace)/\(name)" }
        return name
    }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool { a.description < b.description }
}
