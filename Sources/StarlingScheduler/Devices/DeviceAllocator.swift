import StarlingAPI

/// Allocates a claim's requests from a node's devices (pure: the state is a value). Requests are served in order,
/// each from devices its class's and its own selectors match that are free and whose counters have room;
/// `firstAvailable` takes the first alternative that fits whole. Among fitting devices it packs: it takes the one
/// that leaves the largest devices on the same counter sets still allocatable (so a 1g partition goes where it
/// breaks no 7g and no whole GPU), then the one that makes the fewest devices unavailable, then by name.
public struct DeviceAllocator: Sendable {
    public var classes: [String: DeviceClass]
    /// How a device is chosen among those that fit.
    public var choice: Choice = .packing

    /// `packing` (the default) keeps large devices allocatable; `firstFit` takes the first fitting device by name,
    /// the baseline the placement benchmark compares against.
    public enum Choice: String, Sendable, CaseIterable {
        case packing
        case firstFit = "first-fit"
    }
    /// Parsed selectors by expression text; an expression that does not parse selects nothing.
    private var parsed: [String: DeviceSelectorExpression?] = [:]
    /// Each expression's verdicts, per node, on the node's devices.
    private var selected: [String: [String: NodeSelection]] = [:]

    public init(classes: [DeviceClass]) {
        self.classes = Dictionary(classes.map { ($0.metadata.nameOrEmpty, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Why a claim cannot be allocated on a node.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var request: String
        public var reason: String
        public var description: String { "request \(request): \(reason)" }
    }

    /// Why one request does not fit.
    struct Reason: Error, ExpressibleByStringInterpolation {
        var text: String
        init(stringLiteral value: String) { text = value }
        init(stringInterpolation: DefaultStringInterpolation) {
            text = String(stringInterpolation: stringInterpolation)
        }
    }

    /// Allocates every request of `spec` on `node`, updating `state`; on failure `state` is unchanged.
    public mutating func allocate(
        _ spec: ResourceClaimSpec, on node: String, state: inout DeviceState
    ) -> Result<[DeviceRequestAllocationResult], Failure> {
        var view = View(state: state, node: node)
        let result = allocate(spec, on: node, view: &view)
        if case .success = result { view.write(to: &state, node: node) }
        return result
    }

    /// Allocates every request of `spec` from `view`, which is left partly changed on failure.
    mutating func allocate(
        _ spec: ResourceClaimSpec, on node: String, view: inout View
    ) -> Result<[DeviceRequestAllocationResult], Failure> {
        var results: [DeviceRequestAllocationResult] = []
        for request in spec.devices?.requests ?? [] {
            if let exact = request.exactly {
                switch allocate(exact, name: request.name, on: node, view: &view) {
                case .success(let r): results += r
                case .failure(let reason): return .failure(Failure(request: request.name, reason: reason.text))
                }
            } else if let alternatives = request.firstAvailable {
                var reasons: [String] = []
                var found = false
                for alternative in alternatives {
                    switch allocate(
                        alternative.request, name: "\(request.name)/\(alternative.name)", on: node, view: &view)
                    {
                    case .success(let r):
                        results += r
                        found = true
                    case .failure(let reason): reasons.append("\(alternative.name): \(reason.text)")
                    }
                    if found { break }
                }
                if !found {
                    return .failure(
                        Failure(
                            request: request.name,
                            reason: "no alternative fits (" + reasons.joined(separator: "; ") + ")"))
                }
            }
        }
        return .success(results)
    }

    /// A node's devices and those every node reaches, as one allocation sees them: a copy of two nodes' entries,
    /// so that trying a node does not copy the cluster's state.
    struct View {
        var local: DeviceState.NodeDevices
        var shared: DeviceState.NodeDevices

        init(state: DeviceState, node: String) {
            local = state.nodes[node] ?? .init()
            shared = state.nodes[""] ?? .init()
        }

        /// Stores what the view allocated back into `state`.
        func write(to state: inout DeviceState, node: String) {
            if state.nodes[node] != nil { state.nodes[node] = local }
            if state.nodes[""] != nil { state.nodes[""] = shared }
        }

        func devices(_ ref: Ref) -> DeviceState.NodeDevices { ref.shared ? shared : local }

        func fits(_ ref: Ref) -> Bool {
            ref.shared ? shared.fits(shared.candidates[ref.position]) : local.fits(local.candidates[ref.position])
        }

        func id(_ ref: Ref) -> DeviceID {
            ref.shared ? shared.candidates[ref.position].id : local.candidates[ref.position].id
        }

        mutating func take(_ ref: Ref) {
            if ref.shared { shared.take(at: ref.position) } else { local.take(at: ref.position) }
        }
    }

    /// A device of a view by position: the node's own, or one every node reaches. Hot paths pass these rather
    /// than copies of the devices.
    struct Ref: Equatable {
        var shared: Bool
        var position: Int
    }

    /// One request: `count` devices (or all matching ones), or why not.
    mutating func allocate(
        _ request: ExactDeviceRequest, name: String, on node: String, view: inout View
    ) -> Result<[DeviceRequestAllocationResult], Reason> {
        guard let deviceClass = classes[request.deviceClassName] else {
            return .failure("device class \(request.deviceClassName) does not exist")
        }
        let expressions = ((deviceClass.spec.selectors ?? []) + (request.selectors ?? [])).map {
            $0.cel?.expression ?? ""
        }
        let local = selection(expressions, node: node, devices: view.local)
        let shared = selection(expressions, node: "", devices: view.shared)
        let matching =
            local.indices.filter { local[$0] }.map { Ref(shared: false, position: $0) }
            + shared.indices.filter { shared[$0] }.map { Ref(shared: true, position: $0) }
        let what = "\(request.deviceClassName)" + ((request.selectors ?? []).isEmpty ? "" : " with its selectors")
        if matching.isEmpty { return .failure("no device of \(what) on \(node)") }
        var chosen: [Ref] = []
        if request.allocationMode == .all {
            let busy = matching.filter { !view.fits($0) }.count
            guard busy == 0 else {
                return .failure("all \(matching.count) devices of \(what) are wanted; \(busy) are in use")
            }
            chosen = matching
            for c in chosen { view.take(c) }
        } else {
            let count = request.count ?? 1
            for _ in 0..<count {
                let fitting = matching.filter(view.fits)
                guard let best = choice == .packing ? Self.best(fitting, view: view) : fitting.first else {
                    return .failure(
                        "\(count) of \(what) wanted; \(fitting.count + chosen.count) of \(matching.count) on \(node) free"
                    )
                }
                view.take(best)
                chosen.append(best)
            }
        }
        return .success(
            chosen.map {
                let id = view.id($0)
                return DeviceRequestAllocationResult(request: name, driver: id.driver, pool: id.pool, device: id.device)
            })
    }

    /// One expression's verdict on one node's devices, by position: 0 not yet known, 1 no, 2 yes. A device's
    /// attributes do not change while it is published, so a verdict stands while the node publishes the same
    /// devices (`signature`).
    struct NodeSelection {
        var signature: UInt64
        var verdicts: [UInt8]
    }

    /// Whether every expression selects each of `devices`' devices, by position (evaluating what is not yet known).
    mutating func selection(_ expressions: [String], node: String, devices: DeviceState.NodeDevices) -> [Bool] {
        var all = [Bool](repeating: true, count: devices.candidates.count)
        for text in expressions {
            var memo = takeSelection(text, node: node, devices: devices)
            for i in all.indices where all[i] { all[i] = verdict(text, &memo, devices: devices, position: i) }
            selected[text, default: [:]][node] = memo
        }
        return all
    }

    /// Whether every expression selects the device at `position` of `devices` (evaluated once, then remembered).
    mutating func selects(
        _ expressions: [String], node: String, devices: DeviceState.NodeDevices, position: Int
    ) -> Bool {
        for text in expressions {
            var memo = takeSelection(text, node: node, devices: devices)
            let selects = verdict(text, &memo, devices: devices, position: position)
            selected[text, default: [:]][node] = memo
            if !selects { return false }
        }
        return true
    }

    /// Whether `text` selects the device at `position`: the verdict in `memo`, or evaluated and recorded there.
    mutating func verdict(
        _ text: String, _ memo: inout NodeSelection, devices: DeviceState.NodeDevices, position: Int
    ) -> Bool {
        if memo.verdicts[position] == 0 {
            memo.verdicts[position] = expression(text)?.matches(devices.candidates[position].selectable) == true ? 2 : 1
        }
        return memo.verdicts[position] == 2
    }

    /// The memo of `text` on `node`, moved out of the table (so that updating it copies nothing), fresh when the
    /// node's devices changed.
    mutating func takeSelection(_ text: String, node: String, devices: DeviceState.NodeDevices) -> NodeSelection {
        if let memo = selected[text]?.removeValue(forKey: node), memo.signature == devices.signature,
            memo.verdicts.count == devices.candidates.count
        {
            return memo
        }
        return NodeSelection(
            signature: devices.signature, verdicts: [UInt8](repeating: 0, count: devices.candidates.count))
    }

    mutating func expression(_ text: String) -> DeviceSelectorExpression? {
        if let known = parsed[text] { return known }
        let made = try? DeviceSelectorExpression(text)
        parsed[text] = made
        return made
    }

    /// The fitting device whose taking costs least: the smallest drop in the largest device still allocatable on
    /// the counter sets it shares, then the fewest devices made unavailable, then the first by id.
    static func best(_ fitting: [Ref], view: View) -> Ref? {
        var best: (ref: Ref, cost: (Double, Int))?
        for ref in fitting {
            let cost = cost(of: ref, view: view)
            if best == nil || cost < best!.cost { best = (ref, cost) }
            if cost == (0, 1) { break }
        }
        return best?.ref
    }

    static func cost(of ref: Ref, view: View) -> (Double, Int) {
        let devices = view.devices(ref)
        let candidate = devices.candidates[ref.position]
        guard !candidate.sets.isEmpty else { return (0, 1) }
        // What the counters would hold once `candidate` had taken its share.
        var after = devices.remaining
        for use in candidate.consumes { after[use.slot] -= use.amount }
        var drop = 0.0
        var lost = 0
        for set in candidate.sets {
            var largestBefore = 0.0
            var largestAfter = 0.0
            for position in devices.bySet[set] {
                let other = devices.candidates[position]
                guard devices.fits(other) else { continue }
                largestBefore = max(largestBefore, other.size)
                var stillFits = position != ref.position
                if stillFits {
                    for use in other.consumes where after[use.slot] < use.amount {
                        stillFits = false
                        break
                    }
                }
                if stillFits { largestAfter = max(largestAfter, other.size) } else { lost += 1 }
            }
            drop += largestBefore - largestAfter
        }
        return (drop, lost)
    }
}
