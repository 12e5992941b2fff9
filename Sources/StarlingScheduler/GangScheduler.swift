import StarlingAPI

/// Places gangs of pods on nodes by accelerator type and count, all of a gang or none of it. Higher priority
/// first, then older. Within a gang, each pod goes to the feasible node that leaves the fewest free devices
/// (best fit), so that large requests still find whole nodes; devices are given lowest index first.
public struct GangScheduler: Sendable {
    public init() {}

    public func schedule(nodes: [NodeInfo], gangs: [Gang]) -> SchedulingDecision {
        var state = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
        let order = nodes.map(\.name).sorted()
        var decision = SchedulingDecision()
        let sorted = gangs.sorted {
            ($0.priority, $1.creationOrder, $1.name) > ($1.priority, $0.creationOrder, $0.name)
        }
        for gang in sorted {
            var trial = state
            var placements: [Placement] = []
            var failure: String?
            let members = gang.pods + Array(repeating: gang.pods[0], count: gang.size - gang.pods.count)
            for (i, pod) in members.enumerated() {
                let candidates = order.compactMap { trial[$0] }.filter { fits(pod, on: $0) }
                guard
                    let best = candidates.min(by: { a, b in
                        (a.freeDevices.count - pod.devices, a.name) < (b.freeDevices.count - pod.devices, b.name)
                    })
                else {
                    failure = explain(pod: pod, gang: gang, nodes: order.compactMap { trial[$0] })
                    break
                }
                let devices = Array(best.freeDevices.prefix(pod.devices))
                trial[best.name]!.allocated.formUnion(devices)
                if i < gang.pods.count { placements.append(Placement(pod: pod, node: best.name, devices: devices)) }
            }
            if let failure {
                for pod in gang.pods { decision.unschedulable.append((pod, failure)) }
            } else {
                state = trial
                decision.placements += placements
            }
        }
        return decision
    }

    func fits(_ pod: PodRequest, on node: NodeInfo) -> Bool {
        guard node.schedulable else { return false }
        for (k, v) in pod.nodeSelector {
            if k == WellKnown.acceleratorTypeLabel {
                if node.acceleratorType != v { return false }
            } else if node.labels[k] != v {
                return false
            }
        }
        return node.freeDevices.count >= pod.devices
    }

    /// Says what is missing, node by node, like kube-scheduler's "0/3 nodes are available: …".
    func explain(pod: PodRequest, gang: Gang, nodes: [NodeInfo]) -> String {
        let type = pod.nodeSelector[WellKnown.acceleratorTypeLabel]
        let want = pod.devices == 0 ? "no accelerators" : "\(pod.devices) x \(type ?? "accelerator")"
        var reasons: [String: Int] = [:]
        for node in nodes {
            let reason: String
            if !node.schedulable {
                reason = "node is unschedulable"
            } else if let type, node.acceleratorType != type {
                reason = "accelerator type is \(node.acceleratorType ?? "none"), not \(type)"
            } else if let mismatch = pod.nodeSelector.first(where: {
                $0.key != WellKnown.acceleratorTypeLabel && node.labels[$0.key] != $0.value
            }) {
                reason = "label \(mismatch.key) is not \(mismatch.value)"
            } else {
                reason = "only \(node.freeDevices.count) of \(node.devices.count) devices free"
            }
            reasons[reason, default: 0] += 1
        }
        let detail = reasons.sorted { $0.key < $1.key }.map { "\($0.value) node\($0.value == 1 ? "" : "s"): \($0.key)" }
        let gangText = gang.size > 1 ? "gang \(gang.name) needs \(gang.size) pods of \(want) at once" : "needs \(want)"
        if nodes.isEmpty { return "0/0 nodes are available: no nodes are registered; \(gangText)" }
        return "0/\(nodes.count) nodes are available for all pods: \(gangText); "
            + detail.joined(separator: ", ")
    }
}
