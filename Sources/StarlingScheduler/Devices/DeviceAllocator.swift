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
    /// Whether each expression selects each device: a device's attributes never change while it is published.
    private var selected: [String: [DeviceID: Bool]] = [:]

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

        var candidates: [DeviceState.Candidate] {
            shared.candidates.isEmpty ? local.candidates : local.candidates + shared.candidates
        }

        func fits(_ c: DeviceState.Candidate) -> Bool { c.shared ? shared.fits(c) : local.fits(c) }

        mutating func take(_ c: DeviceState.Candidate) {
            if c.shared { shared.take(c.id) } else { local.take(c.id) }
        }

        /// The devices drawing on a counter set of the node that holds `candidate`.
        func sharing(_ set: Int, with candidate: DeviceState.Candidate) -> [DeviceState.Candidate] {
            let devices = candidate.shared ? shared : local
            return devices.bySet[set].map { devices.candidates[$0] }
        }
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
        var matching: [DeviceState.Candidate] = []
        for candidate in view.candidates where expressions.allSatisfy({ selects($0, candidate) }) {
            matching.append(candidate)
        }
        let what = "\(request.deviceClassName)" + ((request.selectors ?? []).isEmpty ? "" : " with its selectors")
        if matching.isEmpty { return .failure("no device of \(what) on \(node)") }
        var chosen: [DeviceState.Candidate] = []
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
                DeviceRequestAllocationResult(
                    request: name, driver: $0.id.driver, pool: $0.id.pool, device: $0.id.device)
            })
    }

    /// Whether `text` selects the device, remembered per device.
    mutating func selects(_ text: String, _ candidate: DeviceState.Candidate) -> Bool {
        if let known = selected[text]?[candidate.id] { return known }
        let result = expression(text)?.matches(candidate.selectable) ?? false
        selected[text, default: [:]][candidate.id] = result
        return result
    }

    mutating func expression(_ text: String) -> DeviceSelectorExpression? {
        if let known = parsed[text] { return known }
        let made = try? DeviceSelectorExpression(text)
        parsed[text] = made
        return made
    }

    /// The fitting device whose taking costs least: the smallest drop in the largest device still allocatable on
    /// the counter sets it shares, then the fewest devices made unavailable, then the first by id.
    static func best(_ fitting: [DeviceState.Candidate], view: View) -> DeviceState.Candidate? {
        var best: (candidate: DeviceState.Candidate, cost: (Double, Int))?
        for candidate in fitting {
            let cost = cost(of: candidate, view: view)
            if best == nil || cost < best!.cost { best = (candidate, cost) }
            if cost == (0, 1) { break }
        }
        return best?.candidate
    }

    static func cost(of candidate: DeviceState.Candidate, view: View) -> (Double, Int) {
        guard !candidate.sets.isEmpty else { return (0, 1) }
        // What the counters would hold once `candidate` had taken its share.
        var after = candidate.shared ? view.shared.remaining : view.local.remaining
        for use in candidate.consumes { after[use.slot] -= use.amount }
        func fitsAfter(_ other: DeviceState.Candidate) -> Bool {
            guard other.id != candidate.id else { return false }
            for use in other.consumes where after[use.slot] < use.amount { return false }
            return true
        }
        var drop = 0.0
        var lost = 0
        for set in candidate.sets {
            let before = view.sharing(set, with: candidate).filter(view.fits)
            let still = before.filter(fitsAfter)
            drop += (before.map(\.size).max() ?? 0) - (still.map(\.size).max() ?? 0)
            lost += before.count - still.count
        }
        return (drop, lost)
    }
}
