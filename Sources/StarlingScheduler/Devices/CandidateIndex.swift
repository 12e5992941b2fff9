import StarlingAPI

/// Nodes in the order a pod tries them: per request shape (the selectors of a pod's first device request), the
/// nodes with a device of that shape, filed by how many devices they have free, fewest first (best fit), then by
/// name. A pod asking for k devices starts at the nodes with k free, so it never looks at nodes that cannot hold
/// it, nor at nodes without its kind of device; that is what keeps a pass over thousands of nodes fast.
///
/// A node is filed under a shape only while one of the devices the shape selects is free. Free counts and filing
/// are refreshed for the nodes a placed gang used (`refresh`); a gang's trial allocations are checked against the
/// state itself, so a count that lags never places a pod where it does not fit.
struct CandidateIndex {
    /// The nodes, sorted by name; a node's index is its position.
    let nodes: [NodeInfo]
    let position: [String: Int]
    /// Allocatable devices per node.
    var free: [Int]
    /// Shape key → its nodes.
    var shapes: [String: Shape] = [:]
    /// Node → the shapes it is filed in.
    var shapesOfNode: [[String]]

    struct Shape {
        /// Nodes by free count, each list in name order: those with a matching device free now.
        var buckets: [[Int]] = []
        /// Node → the free count it is filed under; absent while none of its matching devices is free.
        var filed: [Int: Int] = [:]
        /// The selector expressions (the class's and the request's).
        var expressions: [String] = []
        /// Devices reachable from every node are selected: every node stays filed.
        var sharedMatch = false

        /// Files `node` under `free` if one of its devices the shape selects is free in `devices`, else takes it
        /// out. Fit is checked before the selectors, whose first evaluation on a device is the costly part.
        mutating func file(
            _ node: Int, name: String, free: Int, devices: DeviceState.NodeDevices?, allocator: inout DeviceAllocator
        ) {
            var open = sharedMatch
            if !open, let devices {
                for position in devices.candidates.indices where devices.fits(devices.candidates[position]) {
                    if allocator.selects(expressions, node: name, devices: devices, position: position) {
                        open = true
                        break
                    }
                }
            }
            if let was = filed[node] {
                if open && was == free { return }
                remove(node, free: was)
                filed[node] = nil
            }
            if open {
                insert(node, free: free)
                filed[node] = free
            }
        }

        mutating func insert(_ node: Int, free: Int) {
            while buckets.count <= free { buckets.append([]) }
            let at = Self.insertionPoint(of: node, in: buckets[free])
            buckets[free].insert(node, at: at)
        }

        mutating func remove(_ node: Int, free: Int) {
            guard free < buckets.count else { return }
            let at = Self.insertionPoint(of: node, in: buckets[free])
            if at < buckets[free].count && buckets[free][at] == node { buckets[free].remove(at: at) }
        }

        static func insertionPoint(of node: Int, in list: [Int]) -> Int {
            var low = 0
            var high = list.count
            while low < high {
                let mid = (low + high) / 2
                if list[mid] < node { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }

    /// The index of `nodes` (sorted by name), with `position` their index by name.
    init(nodes: [NodeInfo], position: [String: Int], state: DeviceState) {
        self.nodes = nodes
        self.position = position
        free = nodes.map { state.freeDevices(on: $0.name) }
        shapesOfNode = Array(repeating: [], count: nodes.count)
    }

    /// What a pod's placement is looked up by: the selectors of its first request, and the fewest devices a node
    /// must have free. Nil for a pod the index cannot narrow (prioritized alternatives, or all devices of a class):
    /// it tries every node.
    static func query(
        _ pod: PodRequest, classes: [String: DeviceClass]
    ) -> (key: String, expressions: [String], minimum: Int)? {
        var first: ExactDeviceRequest?
        var minimum = 0
        for claim in pod.allClaims {
            for request in claim.spec.devices?.requests ?? [] {
                guard let exact = request.exactly, exact.allocationMode != .all else { return nil }
                if first == nil { first = exact }
                minimum += exact.count ?? 1
            }
        }
        guard let first else { return ("", [], 0) }
        let classSelectors = classes[first.deviceClassName]?.spec.selectors ?? []
        let expressions = (classSelectors + (first.selectors ?? [])).map { $0.cel?.expression ?? "" }
        return ("\(first.deviceClassName)\u{0}" + expressions.joined(separator: "\u{0}"), expressions, minimum)
    }

    /// Files every node with a device the expressions select (every node for a pod without devices) under `key`,
    /// once.
    mutating func prepare(
        key: String, expressions: [String], state: DeviceState, allocator: inout DeviceAllocator
    ) {
        guard shapes[key] == nil else { return }
        var shape = Shape()
        shape.expressions = expressions
        func selectsAny(_ node: String) -> Bool {
            guard let devices = state.nodes[node] else { return false }
            return devices.candidates.indices.contains {
                allocator.selects(expressions, node: node, devices: devices, position: $0)
            }
        }
        // A pod without devices, or one a device every node reaches may serve, can go to any node.
        shape.sharedMatch = key.isEmpty || selectsAny("")
        for (i, name) in nodes.map(\.name).enumerated() {
            guard shape.sharedMatch || selectsAny(name) else { continue }
            shape.file(i, name: name, free: free[i], devices: state.nodes[name], allocator: &allocator)
            shapesOfNode[i].append(key)
        }
        shapes[key] = shape
    }

    /// The nodes (by index) of a shape with at least `minimum` devices free, fewest free first, then by name.
    func candidates(key: String, minimum: Int) -> some Sequence<Int> {
        let buckets = shapes[key]?.buckets ?? []
        let start = min(max(minimum, 0), buckets.count)
        return buckets[start...].lazy.joined()
    }

    /// Refiles `node` under its current free count, in the shapes whose devices it still has free.
    mutating func refresh(_ node: String, state: DeviceState, allocator: inout DeviceAllocator) {
        guard let i = position[node] else { return }
        free[i] = state.freeDevices(on: node)
        for key in shapesOfNode[i] {
            shapes[key]?.file(i, name: node, free: free[i], devices: state.nodes[node], allocator: &allocator)
        }
    }
}
