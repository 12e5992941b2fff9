import StarlingAPI

/// Places gangs of pods on nodes, all of a gang or none of it, allocating their claims from the nodes' devices
/// as it goes (`DeviceAllocator`). Higher priority first, then older. Within a gang, each pod goes to the feasible
/// node that leaves the fewest devices free (best fit), so that large requests still find whole nodes.
public struct GangScheduler: Sendable {
    public var allocator: DeviceAllocator

    public init(classes: [DeviceClass] = GPUInventory.deviceClasses()) {
        allocator = DeviceAllocator(classes: classes)
    }

    /// Places `gangs` on `nodes`. `topology` says which gangs' pods each domain of each exclusive-topology key
    /// already holds, and which domains a group holds exclusively: an exclusive gang takes a domain no other gang
    /// is in, and no other gang's pod goes into a domain held exclusively (kube-scheduler's symmetric
    /// anti-affinity, which LeaderWorkerSet's exclusive placement relies on).
    public mutating func schedule(
        nodes: [NodeInfo], gangs: [Gang], devices: DeviceState, topology: TopologyOccupancy = TopologyOccupancy()
    ) -> SchedulingDecision {
        let order = nodes.sorted { $0.name < $1.name }
        var state = devices
        var occupancy = topology
        var decision = SchedulingDecision()
        let sorted = gangs.sorted {
            ($0.priority, $1.creationOrder, $1.name) > ($1.priority, $0.creationOrder, $0.name)
        }
        for gang in sorted {
            let outcome: Result<(placements: [Placement], state: DeviceState), Refusal>
            // Domains held exclusively by other groups are closed to this one.
            let open = order.filter { occupancy.heldByOther(than: gang.name, node: $0) == nil }
            let closed = order.count - open.count
            if let key = gang.exclusiveTopology {
                outcome = placeExclusively(gang, key: key, nodes: order, state: state, occupancy: occupancy)
            } else {
                outcome = place(gang, on: open, state: state).mapError { refusal in
                    var refusal = refusal
                    refusal.nodes = order.count
                    if closed > 0 { refusal.reasons["in a domain another group holds exclusively"] = closed }
                    return Refusal(message: refusal.message(gang))
                }
            }
            switch outcome {
            case .success(let placed):
                state = placed.state
                decision.placements += placed.placements
                let byName = Dictionary(order.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                for placement in placed.placements {
                    guard let node = byName[placement.node] else { continue }
                    occupancy.record(gang: gang.name, on: node, exclusiveKey: gang.exclusiveTopology)
                }
            case .failure(let refusal):
                for pod in gang.pods { decision.unschedulable.append((pod, refusal.message)) }
            }
        }
        return decision
    }

    /// Why a gang was not placed.
    struct Refusal: Error {
        var message: String
    }

    /// Why a gang's member found no node: the member and each node's reason, counted.
    struct MemberRefusal: Error {
        var pod: PodRequest
        var nodes: Int
        var reasons: [String: Int]
        /// How many members had been placed before it.
        var placed: Int

        func message(_ gang: Gang) -> String {
            GangScheduler.explain(pod: pod, gang: gang, nodes: nodes, reasons: reasons)
        }
    }

    /// Places every member of `gang` on `nodes`, each on the node that leaves the fewest devices free.
    mutating func place(
        _ gang: Gang, on nodes: [NodeInfo], state: DeviceState
    ) -> Result<(placements: [Placement], state: DeviceState), MemberRefusal> {
        var trial = state
        var placements: [Placement] = []
        var used: Set<String> = []
        let members = gang.pods + Array(repeating: gang.pods[0], count: gang.size - gang.pods.count)
        for (i, pod) in members.enumerated() {
            var best: (node: String, free: Int, state: DeviceState, claims: [String: [DeviceRequestAllocationResult]])?
            var reasons: [String: Int] = [:]
            for node in nodes {
                if let reason = Self.unfit(pod, on: node, gang: gang, used: used) {
                    reasons[reason, default: 0] += 1
                    continue
                }
                var attempt = trial
                var results: [String: [DeviceRequestAllocationResult]] = [:]
                var refused: String?
                for claim in pod.allClaims {
                    switch allocator.allocate(claim.spec, on: node.name, state: &attempt) {
                    case .success(let r): results[claim.name] = r
                    case .failure(let f):
                        refused = claim.name.isEmpty ? "\(pod.devices) x GPU: \(f.reason)" : "claim \(claim.name): \(f)"
                    }
                    if refused != nil { break }
                }
                if let refused {
                    reasons[Self.generalized(refused, node: node.name), default: 0] += 1
                    continue
                }
                let free = attempt.freeDevices(on: node.name)
                if best == nil || (free, node.name) < (best!.free, best!.node) {
                    best = (node.name, free, attempt, results)
                }
            }
            guard let chosen = best else {
                return .failure(MemberRefusal(pod: pod, nodes: nodes.count, reasons: reasons, placed: i))
            }
            trial = chosen.state
            used.insert(chosen.node)
            if i < gang.pods.count {
                var claims = chosen.claims
                let implicit = claims.removeValue(forKey: "") ?? []
                placements.append(
                    Placement(
                        pod: pod, gang: gang.name, node: chosen.node,
                        devices: implicit.compactMap { Self.gpuIndex($0.device) }.sorted(), claims: claims))
            }
        }
        return .success((placements, trial))
    }

    /// LeaderWorkerSet's exclusive placement: every member in one domain of `key` (nodes with the same value of
    /// that label), and no domain shared with another group placed this way. Domains are tried from the one that
    /// would be left with the fewest free devices (best fit); a refusal names each domain's reason.
    mutating func placeExclusively(
        _ gang: Gang, key: String, nodes: [NodeInfo], state: DeviceState, occupancy: TopologyOccupancy
    ) -> Result<(placements: [Placement], state: DeviceState), Refusal> {
        var domains: [String: [NodeInfo]] = [:]
        for node in nodes { if let value = node.labels[key] { domains[value, default: []].append(node) } }
        var best: (domain: String, free: Int, placements: [Placement], state: DeviceState)?
        var reasons: [String] = []
        for (domain, members) in domains.sorted(by: { $0.key < $1.key }) {
            let others = occupancy.gangs(key: key, domain: domain).subtracting([gang.name])
            if let other = others.sorted().first {
                reasons.append(
                    "\(domain): holds gang \(other)" + (others.count > 1 ? " and \(others.count - 1) more" : ""))
                continue
            }
            switch place(gang, on: members, state: state) {
            case .success(let placed):
                let free = members.reduce(0) { $0 + placed.state.freeDevices(on: $1.name) }
                if best == nil || (free, domain) < (best!.free, best!.domain) {
                    best = (domain, free, placed.placements, placed.state)
                }
            case .failure(let refusal):
                let fit = refusal.placed
                let why = refusal.reasons.sorted { $0.key < $1.key }.map { "\($0.value) x \($0.key)" }
                reasons.append(
                    "\(domain): \(fit) of \(gang.size) pods fit on its \(members.count) node\(members.count == 1 ? "" : "s")"
                        + (why.isEmpty ? "" : " (\(why.joined(separator: ", ")))"))
            }
        }
        if let best { return .success((best.placements, best.state)) }
        let unlabelled = nodes.count - domains.values.reduce(0) { $0 + $1.count }
        if unlabelled > 0 { reasons.append("\(unlabelled) node\(unlabelled == 1 ? "" : "s") without \(key)") }
        let want = gang.size == 1 ? "its pod" : "its \(gang.size) pods"
        return .failure(
            Refusal(
                message:
                    "0/\(nodes.count) nodes are available: gang \(gang.name) needs \(want) in one \(key) domain that "
                    + "no other group holds; " + reasons.joined(separator: "; ")))
    }

    /// Why a node cannot take a pod before its devices are looked at; nil when it may.
    static func unfit(_ pod: PodRequest, on node: NodeInfo, gang: Gang, used: Set<String>) -> String? {
        if !node.schedulable { return "node is unschedulable" }
        if let pinned = pod.pinnedNode, pinned != node.name { return "the pod's allocated claims are on \(pinned)" }
        for (k, v) in pod.nodeSelector.sorted(by: { $0.key < $1.key }) where node.labels[k] != v {
            if k == WellKnown.acceleratorTypeLabel {
                return "accelerator type is \(node.acceleratorType ?? "none"), not \(v)"
            }
            return "label \(k) is not \(v)"
        }
        if gang.distinctNodes && used.contains(node.name) { return "holds another pod of the gang" }
        return nil
    }

    /// A device refusal with the node's name taken out, so that nodes refusing alike are counted together.
    static func generalized(_ reason: String, node: String) -> String {
        reason.replacingOccurrences(of: " on \(node)", with: "")
    }

    /// `gpu-3` → 3.
    static func gpuIndex(_ device: String) -> Int? {
        guard device.hasPrefix("gpu-"), !device.contains("-mig-") else { return nil }
        return Int(device.dropFirst(4))
    }

    /// What a claim asks, in a user's words: `2 x H100-80GB`, `1 x 3g.40gb`, `2 x H100-80GB or 4 x A100-80GB`.
    static func describe(_ spec: ResourceClaimSpec) -> String {
        func one(_ r: ExactDeviceRequest) -> String {
            let expressions = (r.selectors ?? []).compactMap(\.cel?.expression)
            func value(of attribute: String) -> String? {
                for e in expressions {
                    guard let range = e.range(of: ".\(attribute) == \"") else { continue }
                    let rest = e[range.upperBound...]
                    if let end = rest.firstIndex(of: "\"") { return String(rest[..<end]) }
                }
                return nil
            }
            let what = value(of: "profile") ?? value(of: "productName") ?? r.deviceClassName
            return r.allocationMode == .all ? "all \(what)" : "\(r.count ?? 1) x \(what)"
        }
        return (spec.devices?.requests ?? []).map { request in
            if let exact = request.exactly { return one(exact) }
            return (request.firstAvailable ?? []).map { one($0.request) }.joined(separator: " or ")
        }.joined(separator: " and ")
    }

    /// Says what is missing, node by node, like kube-scheduler's "0/3 nodes are available: …".
    static func explain(pod: PodRequest, gang: Gang, nodes: Int, reasons: [String: Int]) -> String {
        let type = pod.nodeSelector[WellKnown.acceleratorTypeLabel]
        var wants: [String] = []
        if pod.devices > 0 { wants.append("\(pod.devices) x \(type ?? "accelerator")") }
        wants += pod.claims.map { describe($0.spec) }
        let want = wants.isEmpty ? "no accelerators" : wants.joined(separator: " and ")
        let detail = reasons.sorted { $0.key < $1.key }.map { "\($0.value) node\($0.value == 1 ? "" : "s"): \($0.key)" }
        let gangText = gang.size > 1 ? "gang \(gang.name) needs \(gang.size) pods of \(want) at once" : "needs \(want)"
        if nodes == 0 { return "0/0 nodes are available: no nodes are registered; \(gangText)" }
        return "0/\(nodes) nodes are available for all pods: \(gangText); " + detail.joined(separator: ", ")
    }
}
