import StarlingAPI
import StarlingClient

/// RBAC objects built from the components' own `apiAccess` declarations, so each role grants exactly the verbs
/// its component uses (a test records what the component sends and compares).
enum RBACManifests {
    /// Policy rules for `accesses`: one per API group and verb set, resources sorted.
    static func rules(_ accesses: [APIAccess]) -> [JSONValue] {
        var verbsByResource: [String: [String: Set<String>]] = [:]
        for access in accesses {
            verbsByResource[access.group, default: [:]][access.resource, default: []].insert(access.verb)
        }
        var rules: [JSONValue] = []
        for group in verbsByResource.keys.sorted() {
            var resourcesByVerbs: [[String]: [String]] = [:]
            for (resource, verbs) in verbsByResource[group] ?? [:] {
                resourcesByVerbs[verbs.sorted(), default: []].append(resource)
            }
            for verbs in resourcesByVerbs.keys.sorted(by: { $0.joined(separator: ",") < $1.joined(separator: ",") }) {
                let resources = (resourcesByVerbs[verbs] ?? []).sorted()
                rules.append(
                    .object([
                        "apiGroups": .array([.string(group)]), "resources": .array(resources.map { .string($0) }),
                        "verbs": .array(verbs.map { .string($0) }),
                    ]))
            }
        }
        return rules
    }

    static func serviceAccount(_ name: String, namespace: String, component: String) -> JSONValue {
        .object([
            "apiVersion": .string("v1"), "kind": .string("ServiceAccount"),
            "metadata": metadata(name, namespace: namespace, component: component),
        ])
    }

    /// A ClusterRole (namespace nil) or Role with its binding to the service account `subject`.
    static func role(
        _ name: String, namespace: String?, component: String, accesses: [APIAccess], subject: String,
        subjectNamespace: String
    ) -> [JSONValue] {
        let kind = namespace == nil ? "ClusterRole" : "Role"
        let role: JSONValue = .object([
            "apiVersion": .string("rbac.authorization.k8s.io/v1"), "kind": .string(kind),
            "metadata": metadata(name, namespace: namespace, component: component),
            "rules": .array(rules(accesses)),
        ])
        let binding: JSONValue = .object([
            "apiVersion": .string("rbac.authorization.k8s.io/v1"), "kind": .string(kind + "Binding"),
            // A ClusterRole is the same for every install; its binding names the install's namespace, so
            // installs in two namespaces do not take each other's rights.
            "metadata": metadata(
                namespace == nil ? "\(name)-\(subjectNamespace)" : name, namespace: namespace, component: component),
            "roleRef": .object([
                "apiGroup": .string("rbac.authorization.k8s.io"), "kind": .string(kind), "name": .string(name),
            ]),
            "subjects": .array([
                .object([
                    "kind": .string("ServiceAccount"), "name": .string(subject),
                    "namespace": .string(subjectNamespace),
                ])
            ]),
        ])
        return [role, binding]
    }

    static func metadata(_ name: String, namespace: String?, component: String) -> JSONValue {
        var meta: [String: JSONValue] = [
            "name": .string(name), "labels": .object(ClusterManifests.labels(component: component)),
        ]
        if let namespace { meta["namespace"] = .string(namespace) }
        return .object(meta)
    }
}
