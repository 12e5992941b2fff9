import StarlingAPI

extension ObjectStore {
    /// The `scale` subresource of an object whose kind has one.
    public func getScale(_ descriptor: ResourceDescriptor, namespace: String?, name: String) throws(Status) -> Scale {
        guard descriptor.hasScale else { throw Status.pathNotFound("\(descriptor.plural)/scale") }
        return Self.scale(of: try getValue(descriptor, namespace: namespace, name: name))
    }

    static func scale(of value: JSONValue) -> Scale {
        var meta = ObjectMeta(
            name: value.value(atPath: "metadata.name")?.stringValue,
            namespace: value.value(atPath: "metadata.namespace")?.stringValue)
        meta.uid = value.value(atPath: "metadata.uid")?.stringValue
        meta.resourceVersion = value.value(atPath: "metadata.resourceVersion")?.stringValue
        meta.creationTimestamp = value.value(atPath: "metadata.creationTimestamp")?.stringValue
        return Scale(
            metadata: meta, replicas: Int(value.value(atPath: "spec.replicas")?.intValue ?? 1),
            statusReplicas: Int(value.value(atPath: "status.replicas")?.intValue ?? 0),
            selector: value.value(atPath: "status.selector")?.stringValue)
    }

    /// Writes `spec.replicas` from a Scale (PUT), checking its resourceVersion when given.
    public func updateScale(
        _ descriptor: ResourceDescriptor, namespace: String?, name: String, body: JSONValue
    ) throws(Status) -> Scale {
        guard descriptor.hasScale else { throw Status.pathNotFound("\(descriptor.plural)/scale") }
        let h = try handler(for: descriptor)
        guard let current = try record(h.resourceKey, namespace ?? "", name) else {
            throw Status.notFound(descriptor, name: name)
        }
        guard let replicas = body.value(atPath: "spec.replicas")?.intValue else {
            throw Status.invalid(descriptor, name: name, errors: [.required("spec.replicas")])
        }
        guard replicas >= 0 else {
            throw Status.invalid(
                descriptor, name: name,
                errors: [FieldError("spec.replicas", "Invalid value: \(replicas): must be >= 0")])
        }
        var value = try parse(current.data)
        value["spec"]?["replicas"] = .int(replicas)
        let rv = body.value(atPath: "metadata.resourceVersion")?.stringValue
        let updated = try applyUpdate(
            h, current: current, desired: value, expectedRV: (rv?.isEmpty ?? true) ? nil : rv, scope: .main)
        return Self.scale(of: updated)
    }

    /// Patches the Scale of an object.
    public func patchScale(
        _ descriptor: ResourceDescriptor, namespace: String?, name: String, patch: JSONValue, type: PatchType
    ) throws(Status) -> Scale {
        let scale = try getScale(descriptor, namespace: namespace, name: name)
        let current: JSONValue
        do { current = try JSONValue(encoding: scale) } catch { throw Status.internalError("\(error)") }
        // Scale is a built-in kind (autoscaling/v1) even for a custom resource: strategic merge applies to it.
        let patched = try Self.apply(patch: patch, type: type, to: current, kind: "Scale")
        return try updateScale(descriptor, namespace: namespace, name: name, body: patched)
    }

    /// Binds a pod to a node (`pods/{name}/binding`), copying the binding's annotations onto the pod.
    public func bind(namespace: String, name: String, body: JSONValue) throws(Status) {
        let descriptor = Pod.descriptor
        let h = try handler(for: descriptor)
        guard let current = try record(h.resourceKey, namespace, name) else {
            throw Status.notFound(descriptor, name: name)
        }
        guard let node = body.value(atPath: "target.name")?.stringValue, !node.isEmpty else {
            throw Status.invalid(descriptor, name: name, errors: [.required("target.name")])
        }
        if let kind = body.value(atPath: "target.kind")?.stringValue, kind != "Node" {
            throw Status.invalid(
                descriptor, name: name, errors: [.notSupported("target.kind", kind, allowed: ["Node"])])
        }
        let old = try parse(current.data)
        if old.value(atPath: "metadata.deletionTimestamp") != nil {
            throw Status.conflict(descriptor, name: name, detail: "pod is being deleted, cannot be assigned to a host")
        }
        if let existing = old.value(atPath: "spec.nodeName")?.stringValue, !existing.isEmpty {
            throw Status.conflict(
                descriptor, name: name, detail: "pod \(name) is already assigned to node \"\(existing)\"")
        }
        var value = old
        value["spec"]?["nodeName"] = .string(node)
        for (k, v) in body.value(atPath: "metadata.annotations")?.objectValue ?? [:] {
            if value.value(atPath: "metadata.annotations") == nil { value["metadata"]?["annotations"] = .object([:]) }
            value["metadata"]?["annotations"]?[k] = v
        }
        var conditions = value.value(atPath: "status.conditions")?.arrayValue ?? []
        conditions.removeAll { $0["type"]?.stringValue == "PodScheduled" }
        conditions.append(
            .object([
                "type": .string("PodScheduled"), "status": .string("True"),
                "lastTransitionTime": .string(Timestamp.now()),
            ]))
        if value["status"] == nil { value["status"] = .object([:]) }
        value["status"]?["conditions"] = .array(conditions)
        _ = try write(
            h, try normalize(h, value), type: .modified, previous: PreviousState(value: old, data: current.data))
    }
}
