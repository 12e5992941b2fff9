import StarlingAPI

/// Allocates a claim's requests from a node's devices (pure: the state is a value). Requests are served in order,
/// each from devices its class's and its own selectors match that are free and whose counters have room;
/// `firstAvailable` takes the first alternative that fits whole. Among fitting devices it packs: it takes the one
/// that leaves the largest devices on the same counter sets still allocatable (so a 1g partition goes where it
/// breaks no 7g and no whole GPU), then the one that makes the fewest devices unavailable, then by name.
public struct DeviceAllocator: Sendable {
    public var classes: [String: DeviceClass]
    /// Parsed selectors by expression text; an expression that does not parse selects nothing.
    private var parsed: [String: DeviceSelectorExpression?] = [:]

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
        var trial = state
        var results: [DeviceRequestAllocationResult] = []
        for request in spec.devices?.requests ?? [] {
            if let exact = request.exactly {
                switch allocate(exact, name: request.name, on: node, state: &trial) {
                case .success(let r): results += r
                case .failure(let reason): return .failure(Failure(request: request.name, reason: reason.text))
                }
            } else if let alternatives = request.firstAvailable {
                var reasons: [String] = []
                var found = false
                for alternative in alternatives {
                    switch allocate(
                        alternative.request, name: "\(request.name)/\(alternative.name)", on: node, state: &trial)
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
        state = trial
        return .success(results)
    }

    /// One request: `count` devices (or all matching ones), or why not.
    mutating func allocate(
        _ request: ExactDeviceRequest, name: String, on node: String, state: inout DeviceState
    ) -> Result<[DeviceRequestAllocationResult], Reason> {
        guard let deviceClass = classes[request.deviceClassName] else {
            return .failure("device class \(request.deviceClassName) does not exist")
        }
        let expressions = (deviceClass.spec.selectors ?? []) + (request.selectors ?? [])
        let matching = state.devices(on: node).filter { candidate in
            expressions.allSatisfy { selector in
                guard let text = selector.cel?.expression else { return false }
                return expression(text)?.matches(candidate.selectable) ?? false
            }
        }
        let what = "\(request.deviceClassName)" + ((request.selectors ?? []).isEmpty ? "" : " with its selectors")
        if matching.isEmpty { return .failure("no device of \(what) on \(node)") }
        var chosen: [DeviceState.Candidate] = []
        if request.allocationMode == .all {
            guard matching.allSatisfy(state.fits) else {
                let busy = matching.filter { !state.fits($0) }.count
                return .failure("all \(matching.count) devices of \(what) are wanted; \(busy) are in use")
            }
            chosen = matching
            for c in chosen { state.take(c.id) }
        } else {
            let count = request.count ?? 1
            for _ in 0..<count {
                guard let best = Self.best(matching.filter(state.fits), state: state) else {
                    let free = matching.filter(state.fits).count + chosen.count
                    return .failure("\(count) of \(what) wanted; \(free) of \(matching.count) on \(node) free")
                }
                state.take(best.id)
                chosen.append(best)
            }
        }
        return .success(
            chosen.map {
                DeviceRequestAllocationResult(
                    request: name, driver: $0.id.driver, pool: $0.id.pool, device: $0.id.device)
            })
    }

    mutating func expression(_ text: String) -> DeviceSelectorExpression? {
        if let known = parsed[text] { return known }
        let made = try? DeviceSelectorExpression(text)
        parsed[text] = made
        return made
    }

    /// The fitting device whose taking costs least: the smallest drop in the largest device still allocatable on
    /// the counter sets it shares, then the fewest devices made unavailable, then the first by id.
    static func best(_ fitting: [DeviceState.Candidate], state: DeviceState) -> DeviceState.Candidate? {
        var best: (candidate: DeviceState.Candidate, cost: (Double, Int))?
        for candidate in fitting {
            let cost = cost(of: candidate, state: state)
            if best == nil || cost < best!.cost { best = (candidate, cost) }
        }
        return best?.candidate
    }

    static func cost(of candidate: DeviceState.Candidate, state: DeviceState) -> (Double, Int) {
        guard !candidate.sets.isEmpty else { return (0, 0) }
        var after = state
        after.take(candidate.id)
        var drop = 0.0
        var lost = 0
        for set in candidate.sets {
            let sharing = state.devicesBySet[set] ?? []
            let before = sharing.filter(state.fits)
            let still = before.filter { $0.id != candidate.id && after.fits($0) }
            drop += (before.map(\.size).max() ?? 0) - (still.map(\.size).max() ?? 0)
            lost += before.count - still.count
        }
        return (drop, lost)
    }
}
