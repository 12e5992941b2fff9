import StarlingAPI

/// Places gangs of pods on nodes, all of a gang or none of it, allocating their claims from the nodes' devices
/// as it goes (`DeviceAllocator`). Higher priority first, then older. Within a gang, each pod goes to the feasible
/// node with the fewest devices free (best fit), then by name, so that large requests still find whole nodes.
/// `CandidateIndex` gives each pod the nodes in that order, skipping those without its kind of device or with
/// too few free, so a pass over thousands of nodes tries few of them.
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
        var session = Session(scheduler: self, nodes: nodes, devices: devices, topology: topology)
        var decision = SchedulingDecision()
        let sorted = gangs.sorted {
            ($0.priority, $1.creationOrder, $1.name) > ($1.priority, $0.creationOrder, $0.name)
        }
        for gang in sorted {
            switch session.place(gang) {
            case .success(let placements): decision.placements += placements
            case .failure(let refusal):
                for pod in gang.pods { decision.unschedulable.append((pod, refusal.message)) }
            }
        }
        self = session.scheduler
        return decision
    }

    /// Gangs placed one after another on the same nodes: the devices and domains each placement uses stay taken for
    /// the next. `schedule` runs one per pass; a caller placing gangs as they arrive keeps one.
    public struct Session: Sendable {
        public internal(set) var scheduler: GangScheduler
        /// The nodes, by name.
        let order: [NodeInfo]
        let position: [String: Int]
        /// The devices, with every placement so far allocated.
        public private(set) var devices: DeviceState
        public private(set) var occupancy: TopologyOccupancy
        var index: CandidateIndex?
        /// What refused a gang, by what its pods ask: within a session devices are only taken, never freed, so a
        /// gang asking the same that needs more pods than the refused one could place is refused too, without
        /// looking at every node again to say why.
        var refused: [String: MemberRefusal] = [:]

        /// A session on `nodes` and `devices`; with `indexed` false every pod tries every node (the baseline the
        /// scheduling benchmark compares with).
        public init(
            scheduler: GangScheduler, nodes: [NodeInfo], devices: DeviceState,
            topology: TopologyOccupancy = TopologyOccupancy(), indexed: Bool = true
        ) {
            self.scheduler = scheduler
            order = nodes.sorted { $0.name < $1.name }
            position = Dictionary(order.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            self.devices = devices
            occupancy = topology
            index = indexed ? CandidateIndex(nodes: order, position: position, state: devices) : nil
        }

        /// Places every pod of `gang`, or none of them and says why.
        public mutating func place(_ gang: Gang) -> Result<[Placement], GangRefusal> {
            let outcome: Result<[Placement], GangRefusal>
            // Domains held exclusively by other groups are closed to this one.
            let open =
                occupancy.exclusive.isEmpty
                ? order : order.filter { occupancy.heldByOther(than: gang.name, node: $0) == nil }
            let closed = order.count - open.count
            if let key = gang.exclusiveTopology {
                outcome = scheduler.placeExclusively(
                    gang, key: key, nodes: order, state: &devices, occupancy: occupancy)
            } else {
                let total = order.count
                // Only while no domain is held exclusively: then every gang sees the same nodes. The key is made
                // only once something was refused.
                let cached = occupancy.exclusive.isEmpty
                let asks = cached && !refused.isEmpty ? Self.asks(gang) : nil
                if let asks, var known = refused[asks], gang.size > known.placed {
                    known.pod = gang.pods[0]
                    return .failure(GangRefusal(message: known.message(gang)))
                }
                outcome = scheduler.place(gang, on: open, state: &devices, index: &index).mapError { refusal in
                    var refusal = refusal
                    refusal.nodes = total
                    if closed > 0 { refusal.reasons["in a domain another group holds exclusively"] = closed }
                    // A count is exact when each pod takes a node of its own, or when not even one pod fit.
                    if cached, gang.distinctNodes || refusal.placed == 0, let asks = asks ?? Self.asks(gang) {
                        refused[asks] = refusal
                    }
                    return GangRefusal(message: refusal.message(gang))
                }
            }
            switch outcome {
            case .success(let placements):
                for placement in placements {
                    index?.refresh(placement.node, state: devices, allocator: &scheduler.allocator)
                    guard let i = position[placement.node] else { continue }
                    occupancy.record(gang: gang.name, on: order[i], exclusiveKey: gang.exclusiveTopology)
                }
                return .success(placements)
            case .failure(let refusal): return .failure(refusal)
            }
        }

        /// What every pod of `gang` asks, as one key; nil when its pods ask different things or are tied to a node.
        static func asks(_ gang: Gang) -> String? {
            func key(_ pod: PodRequest) -> String? {
                guard pod.pinnedNode == nil else { return nil }
                let selector = pod.nodeSelector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                return "\(gang.distinctNodes)|\(selector)|\(pod.devices)|\(pod.claims.map(\.spec))"
            }
            guard let first = gang.pods.first, let asked = key(first) else { return nil }
            for pod in gang.pods.dropFirst() where key(pod) != asked { return nil }
            return asked
        }
    }

    /// Why a gang was not placed, as its pods' PodScheduled condition says it.
    public struct GangRefusal: Error, Sendable, Equatable {
        public var message: String
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

    /// Places every member of `gang` on `nodes`, each on the feasible node with the fewest devices free, then by
    /// name, allocating in `state`; on failure `state` is as it was. With `index`, a member tries the nodes the
    /// index gives it in that order and takes the first that fits; a member the index cannot narrow, or finds no
    /// node for, looks at every node (which also says why each refuses).
    mutating func place(
        _ gang: Gang, on nodes: [NodeInfo], state: inout DeviceState, index: inout CandidateIndex?
    ) -> Result<[Placement], MemberRefusal> {
        var saved: [String: DeviceState.NodeDevices?] = [:]
        func restore(_ state: inout DeviceState) {
            for (node, devices) in saved { state.nodes[node] = devices }
        }
        var placements: [Placement] = []
        var used: Set<String> = []
        // The index covers every node; a gang kept out of some domains checks membership.
        let allowed: Set<String>? = index.map { nodes.count == $0.nodes.count } == true ? nil : Set(nodes.map(\.name))
        let members = gang.pods + Array(repeating: gang.pods[0], count: gang.size - gang.pods.count)
        for (i, pod) in members.enumerated() {
            var chosen: Trial?
            if index != nil, let query = CandidateIndex.query(pod, classes: allocator.classes) {
                index!.prepare(key: query.key, expressions: query.expressions, state: state, allocator: &allocator)
                for n in index!.candidates(key: query.key, minimum: query.minimum) {
                    let node = index!.nodes[n]
                    if let allowed, !allowed.contains(node.name) { continue }
                    if Self.unfit(pod, on: node, gang: gang, used: used) != nil { continue }
                    if case .success(let trial) = attempt(pod, on: node.name, state: state) {
                        chosen = trial
                        break
                    }
                }
            }
            if chosen == nil {
                // Every node, tightest first: the one that fits, or each one's reason.
                let free = Dictionary(nodes.map { ($0.name, state.freeDevices(on: $0.name)) }, uniquingKeysWith: max)
                var reasons: [String: Int] = [:]
                for node in nodes.sorted(by: { (free[$0.name]!, $0.name) < (free[$1.name]!, $1.name) }) {
                    if let reason = Self.unfit(pod, on: node, gang: gang, used: used) {
                        reasons[reason, default: 0] += 1
                        continue
                    }
                    switch attempt(pod, on: node.name, state: state) {
                    case .success(let trial): chosen = trial
                    case .failure(let refused):
                        reasons[Self.generalized(refused.message, node: node.name), default: 0] += 1
                    }
                    if chosen != nil { break }
                }
                if chosen == nil {
                    restore(&state)
                    return .failure(MemberRefusal(pod: pod, nodes: nodes.count, reasons: reasons, placed: i))
                }
            }
            let trial = chosen!
            if saved[trial.node] == nil { saved[trial.node] = .some(state.nodes[trial.node]) }
            if saved[""] == nil { saved[""] = .some(state.nodes[""]) }
            trial.view.write(to: &state, node: trial.node)
            used.insert(trial.node)
            if i < gang.pods.count {
                var claims = trial.claims
                let implicit = claims.removeValue(forKey: "") ?? []
                placements.append(
                    Placement(
                        pod: pod, gang: gang.name, node: trial.node,
                        devices: implicit.compactMap { Self.gpuIndex($0.device) }.sorted(), claims: claims))
            }
        }
        return .success(placements)
    }

    /// A pod's claims allocated on one node, not yet stored in the state.
    struct Trial {
        var node: String
        var view: DeviceAllocator.View
        var claims: [String: [DeviceRequestAllocationResult]]
    }

    /// Allocates every claim of `pod` on `node` against `state` (left unchanged), or says why not.
    mutating func attempt(_ pod: PodRequest, on node: String, state: DeviceState) -> Result<Trial, GangRefusal> {
        var view = DeviceAllocator.View(state: state, node: node)
        var results: [String: [DeviceRequestAllocationResult]] = [:]
        for claim in pod.allClaims {
            switch allocator.allocate(claim.spec, on: node, view: &view) {
            case .success(let r): results[claim.name] = r
            case .failure(let f):
                return .failure(
                    GangRefusal(
                        message: claim.name.isEmpty ? "\(pod.devices) x GPU: \(f.reason)" : "claim \(claim.name): \(f)")
                )
            }
        }
        return .success(Trial(node: node, view: view, claims: results))
    }

    /// LeaderWorkerSet's exclusive placement: every member in one domain of `key` (nodes with the same value of
    /// that label), and no domain shared with another group placed this way. Domains are tried from the one that
    /// would be left with the fewest free devices (best fit); a refusal names each domain's reason.
    mutating func placeExclusively(
        _ gang: Gang, key: String, nodes: [NodeInfo], state: inout DeviceState, occupancy: TopologyOccupancy
    ) -> Result<[Placement], GangRefusal> {
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
            var trial = state
            var noIndex: CandidateIndex?
            switch place(gang, on: members, state: &trial, index: &noIndex) {
            case .success(let placements):
                let free = members.reduce(0) { $0 + trial.freeDevices(on: $1.name) }
                if best == nil || (free, domain) < (best!.free, best!.domain) {
                    best = (domain, free, placements, trial)
                }
            case .failure(let refusal):
                let fit = refusal.placed
                let why = refusal.reasons.sorted { $0.key < $1.key }.map { "\($0.value) x \($0.key)" }
                reasons.append(
                    "\(domain): \(fit) of \(gang.size) pods fit on its \(members.count) node\(members.count == 1 ? "" : "s")"
                        + (why.isEmpty ? "" : " (\(why.joined(separator: ", ")))"))
            }
        }
        if let best {
            state = best.state
            return .success(best.placements)
        }
        let unlabelled = nodes.count - domains.values.reduce(0) { $0 + $1.count }
        if unlabelled > 0 { reasons.append("\(unlabelled) node\(unlabelled == 1 ? "" : "s") without \(key)") }
        let want = gang.size == 1 ? "its pod" : "its \(gang.size) pods"
        return .failure(
            GangRefusal(
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
