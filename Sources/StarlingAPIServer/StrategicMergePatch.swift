import StarlingAPI

/// Kubernetes' strategic merge patch for the core kinds the API server serves: objects merge as in a JSON merge
/// patch, and lists with a merge key (containers by `name`, env by `name`, ports by `containerPort`, conditions by
/// `type`, …) merge item by item instead of being replaced. Directives: `$patch: replace` and `$patch: delete` on
/// objects and list items, `$setElementOrder/<list>` (accepted; order follows the patch's merge). Any other
/// directive is refused with 415 rather than half-applied. Custom resources (ModelService) have no merge keys and
/// get 415, as kube-apiserver answers for CRDs.
enum StrategicMergePatch {
    /// Merge keys by kind and list path (`spec.containers`, `spec.containers[].env`).
    static let mergeKeys: [String: [String: String]] = [
        "Pod": [
            "spec.containers": "name", "spec.containers[].env": "name", "spec.containers[].ports": "containerPort",
            "status.conditions": "type", "status.containerStatuses": "name", "status.podIPs": "ip",
            "metadata.ownerReferences": "uid",
        ],
        "Node": ["status.conditions": "type", "status.addresses": "type", "metadata.ownerReferences": "uid"],
        "Service": ["spec.ports": "port", "metadata.ownerReferences": "uid"],
        "Event": [:],
        "Lease": [:],
        "Scale": [:],
    ]

    /// Applies `patch` to `value`, an object of `kind`.
    static func apply(_ patch: JSONValue, to value: JSONValue, kind: String) throws(Status) -> JSONValue {
        guard let keys = mergeKeys[kind] else {
            throw Status.unsupportedMediaType(
                "the body of the request was in an unknown format - accepted media types include: "
                    + "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml "
                    + "(strategic merge patch is not supported for \(kind), a custom resource)")
        }
        guard case .object = patch else { throw Status.badRequest("a strategic merge patch must be a JSON object") }
        return try merge(value, patch, path: "", keys: keys) ?? .object([:])
    }

    /// The merged value, or nil when the patch deletes it.
    static func merge(
        _ original: JSONValue?, _ patch: JSONValue, path: String, keys: [String: String]
    ) throws(Status)
        -> JSONValue?
    {
        guard case .object(let members) = patch else { return patch }
        switch members["$patch"]?.stringValue {
        case "replace":
            var replaced = members
            replaced["$patch"] = nil
            return try strip(.object(replaced), path: path)
        case "delete":
            return nil
        case nil:
            break
        case let other?:
            throw Status.unsupportedMediaType("strategic merge patch: unsupported $patch: \(other) at \(path)")
        }
        var result = original?.objectValue ?? [:]
        for (key, value) in members {
            if key.hasPrefix("$setElementOrder/") { continue }
            if key.hasPrefix("$") {
                throw Status.unsupportedMediaType(
                    "strategic merge patch: the directive \(key) at \(path.isEmpty ? "the top level" : path) is not "
                        + "supported; use a JSON merge patch or a JSON patch")
            }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            switch value {
            case .null:
                result[key] = nil
            case .object:
                result[key] = try merge(result[key], value, path: childPath, keys: keys)
            case .array(let items):
                if let mergeKey = keys[childPath] {
                    result[key] = .array(
                        try mergeList(
                            result[key]?.arrayValue ?? [], items, key: mergeKey, path: childPath, keys: keys))
                } else {
                    result[key] = try strip(value, path: childPath)
                }
            default:
                result[key] = value
            }
        }
        return .object(result)
    }

    /// Merges a list by `key`: items whose key matches merge, new ones append, `$patch: delete` items remove,
    /// a `{"$patch": "replace"}` item makes the rest of the patch list the whole list.
    static func mergeList(
        _ original: [JSONValue], _ patch: [JSONValue], key: String, path: String, keys: [String: String]
    ) throws(Status) -> [JSONValue] {
        let itemPath = "\(path)[]"
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            var replaced: [JSONValue] = []
            for item in patch where item["$patch"]?.stringValue != "replace" {
                replaced.append(try strip(item, path: itemPath))
            }
            return replaced
        }
        var result = original
        for item in patch {
            guard case .object = item, let id = item[key], id != .null else {
                throw Status.badRequest("strategic merge patch: \(path): every item needs its merge key \"\(key)\"")
            }
            let index = result.firstIndex { $0[key] == id }
            if let index {
                if let merged = try merge(result[index], item, path: itemPath, keys: keys) {
                    result[index] = merged
                } else {
                    result.remove(at: index)
                }
            } else if let added = try merge(nil, item, path: itemPath, keys: keys) {
                result.append(added)
            }
        }
        return result
    }

    /// A value with no directives left in it (refusing any it carries).
    static func strip(_ value: JSONValue, path: String) throws(Status) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, member) in members {
                if key.hasPrefix("$setElementOrder/") { continue }
                if key.hasPrefix("$") {
                    throw Status.unsupportedMediaType("strategic merge patch: the directive \(key) at \(path)")
                }
                out[key] = try strip(member, path: "\(path).\(key)")
            }
            return .object(out)
        case .array(let items):
            var out: [JSONValue] = []
            for item in items { out.append(try strip(item, path: "\(path)[]")) }
            return .array(out)
        default:
            return value
        }
    }
}
