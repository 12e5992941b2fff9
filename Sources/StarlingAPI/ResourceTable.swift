import Foundation

/// The columns `starling get` prints and the embedded API server's Table responses (`kubectl get`) carry for each
/// kind, computed from an object's JSON, so both show the same thing.
public enum ResourceTable {
    /// The columns `-o wide` adds: hidden from a default `kubectl get` (Table priority 1).
    public static func wideColumns(kind: String) -> Set<String> {
        Set(
            columns(kind: kind, wide: true, allNamespaces: false).dropFirst(
                columns(kind: kind, wide: false, allNamespaces: false).count))
    }

    public static func columns(kind: String, wide: Bool, allNamespaces: Bool) -> [String] {
        var cols: [String]
        switch kind {
        case "ModelService":
            cols =
                ["NAME", "MODEL", "REPLICAS", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
                + (wide ? ["GROUP-SIZE", "ACCELERATORS", "REVISIONS"] : [])
        case "Pod":
            cols = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] + (wide ? ["IP", "PORT", "NODE", "DEVICES"] : [])
        case "Node": cols = ["NAME", "STATUS", "ACCELERATOR", "DEVICES", "ALLOCATABLE", "AGE"] + (wide ? ["RACK"] : [])
        case "Event": cols = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        case "Lease": cols = ["NAME", "HOLDER", "AGE"]
        default: cols = ["NAME", "AGE"]
        }
        return allNamespaces ? ["NAMESPACE"] + cols : cols
    }

    public static func row(_ o: JSONValue, kind: String, wide: Bool, allNamespaces: Bool) -> [String] {
        func s(_ path: String) -> String? { o.value(atPath: path)?.stringValue }
        func i(_ path: String) -> Int64? { o.value(atPath: path)?.intValue }
        let name = s("metadata.name") ?? ""
        let age = Timestamp.age(of: s("metadata.creationTimestamp"))
        var cells: [String]
        switch kind {
        case "ModelService":
            let desired = i("spec.replicas") ?? 1
            let available =
                (o.value(atPath: "status.conditions")?.arrayValue ?? []).first {
                    $0["type"]?.stringValue == "Available"
                }?["status"]?.stringValue ?? "Unknown"
            cells = [
                name, s("spec.model") ?? "", String(desired), "\(i("status.readyReplicas") ?? 0)/\(desired)",
                String(i("status.updatedReplicas") ?? 0), available, age,
            ]
            if wide {
                let count = i("spec.accelerators.count") ?? (s("spec.accelerators.type") == nil ? 0 : 1)
                // Each revision with its Ready and total groups, the update revision first: `a1b2 3/3, c4d5 0/1`.
                let revisions = (o.value(atPath: "status.revisions")?.arrayValue ?? []).map { entry in
                    "\(entry["revision"]?.stringValue ?? "?") "
                        + "\(entry["readyReplicas"]?.intValue ?? 0)/\(entry["replicas"]?.intValue ?? 0)"
                }
                cells += [
                    String(i("spec.group.size") ?? 1), s("spec.accelerators.type").map { "\(count) x \($0)" } ?? "none",
                    revisions.isEmpty ? s("status.updateRevision") ?? "" : revisions.joined(separator: ", "),
                ]
            }
        case "Pod":
            let statuses = o.value(atPath: "status.containerStatuses")?.arrayValue ?? []
            let ready = statuses.filter { $0["ready"] == .bool(true) }.count
            let total = max(statuses.count, o.value(atPath: "spec.containers")?.arrayValue?.count ?? 1)
            let restarts = statuses.reduce(Int64(0)) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            cells = [name, "\(ready)/\(total)", podStatus(o), String(restarts), age]
            if wide {
                let ports = (o.value(atPath: "spec.containers")?.arrayValue ?? []).flatMap {
                    $0["ports"]?.arrayValue ?? []
                }
                let port =
                    ((ports.first { $0["name"]?.stringValue == "http" } ?? ports.first)?["containerPort"]?.intValue)
                    .map(String.init) ?? "<none>"
                cells += [
                    s("status.podIP") ?? "<none>", port, s("spec.nodeName") ?? "<none>",
                    o.value(atPath: "metadata.annotations")?[
                        WellKnown.devicesAnnotation]?.stringValue ?? "<none>",
                ]
            }
        case "Node":
            let ready = (o.value(atPath: "status.conditions")?.arrayValue ?? []).first {
                $0["type"]?.stringValue == "Ready"
            }?["status"]?.stringValue
            var status = ready == "True" ? "Ready" : (ready == nil ? "Unknown" : "NotReady")
            if o.value(atPath: "spec.unschedulable") == .bool(true) { status += ",SchedulingDisabled" }
            let labels = o.value(atPath: "metadata.labels")
            cells = [
                name, status, labels?[WellKnown.acceleratorTypeLabel]?.stringValue ?? "<none>",
                o.value(atPath: "status.capacity")?[WellKnown.acceleratorResource]?.stringValue ?? "0",
                o.value(atPath: "status.allocatable")?[WellKnown.acceleratorResource]?.stringValue ?? "0", age,
            ]
            if wide { cells.append(labels?[WellKnown.rackLabel]?.stringValue ?? "<none>") }
        case "Event":
            let obj = "\(s("involvedObject.kind")?.lowercased() ?? "")/\(s("involvedObject.name") ?? "")"
            cells = [
                Timestamp.age(of: s("lastTimestamp") ?? s("metadata.creationTimestamp")), s("type") ?? "",
                s("reason") ?? "", obj, s("message") ?? "",
            ]
        case "Lease":
            cells = [name, s("spec.holderIdentity") ?? "", age]
        default:
            cells = [name, age]
        }
        return allNamespaces ? [s("metadata.namespace") ?? ""] + cells : cells
    }

    /// The STATUS column kubectl shows for a pod.
    public static func podStatus(_ o: JSONValue) -> String {
        if o.value(atPath: "metadata.deletionTimestamp") != nil { return "Terminating" }
        let cs = o.value(atPath: "status.containerStatuses")?.arrayValue?.first
        if let reason = cs?.value(atPath: "state.waiting.reason")?.stringValue,
            reason != "ContainerCreating" || o.value(atPath: "spec.nodeName") != nil
        {
            return reason
        }
        if let reason = cs?.value(atPath: "state.terminated.reason")?.stringValue { return reason }
        let scheduled = (o.value(atPath: "status.conditions")?.arrayValue ?? []).first {
            $0["type"]?.stringValue == "PodScheduled"
        }
        if o.value(atPath: "spec.nodeName") == nil, scheduled?["status"]?.stringValue == "False" { return "Pending" }
        return o.value(atPath: "status.phase")?.stringValue ?? "Pending"
    }
}
