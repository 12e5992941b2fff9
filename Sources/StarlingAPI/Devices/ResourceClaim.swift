/// DRA's `ResourceClaim` (`resource.k8s.io/v1`): a request for devices, allocated by the scheduler (the result is
/// in `status.allocation`) and reserved for the pods that use it.
public struct ResourceClaim: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: WellKnown.resourceGroup, version: "v1", kind: "ResourceClaim", plural: "resourceclaims",
        singular: "resourceclaim", namespaced: true, hasStatus: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ResourceClaimSpec
    public var status: ResourceClaimStatus?

    public init(metadata: ObjectMeta, spec: ResourceClaimSpec) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func validate() -> [FieldError] {
        var errors = spec.validate(path: "spec")
        if let results = status?.allocation?.devices?.results {
            let requests = Set(spec.devices?.requests.flatMap(\.resultNames) ?? [])
            for (i, result) in results.enumerated() where !requests.contains(result.request) {
                errors.append(
                    FieldError(
                        "status.allocation.devices.results[\(i)].request",
                        "Invalid value: \"\(result.request)\": names no request of the claim"))
            }
        }
        return errors
    }

    /// Whether devices are allocated to the claim.
    public var isAllocated: Bool { status?.allocation != nil }

    /// The status merge patch that frees a claim's devices: no allocation, no consumers.
    public static let deallocation: JSONValue = .object([
        "status": .object(["allocation": .null, "reservedFor": .null])
    ])
}

/// `spec` of a ResourceClaim or of a template's claims.
public struct ResourceClaimSpec: Codable, Sendable, Equatable {
    public var devices: DeviceClaim?

    public init(requests: [DeviceRequest]) { devices = DeviceClaim(requests: requests) }

    /// Kubernetes' bounds.
    public static let maxRequests = 32
    public static let maxSubRequests = 8

    func validate(path: String) -> [FieldError] {
        let requests = devices?.requests ?? []
        let requestsPath = "\(path).devices.requests"
        var errors: [FieldError] = []
        if requests.isEmpty { errors.append(FieldError(requestsPath, "Required value: at least one request")) }
        if requests.count > Self.maxRequests {
            errors.append(
                FieldError(requestsPath, "Too many: \(requests.count): must have at most \(Self.maxRequests) items"))
        }
        var names: Set<String> = []
        for (i, request) in requests.enumerated() {
            let requestPath = "\(requestsPath)[\(i)]"
            errors += Validation.dnsLabelErrors(request.name, path: "\(requestPath).name")
            if !names.insert(request.name).inserted {
                errors.append(FieldError("\(requestPath).name", "Duplicate value: \"\(request.name)\""))
            }
            switch (request.exactly, request.firstAvailable) {
            case (nil, nil), (nil, .some([])):
                errors.append(FieldError(requestPath, "Required value: exactly one of `exactly` or `firstAvailable`"))
            case (.some, .some):
                errors.append(
                    FieldError(requestPath, "Invalid value: exactly one of `exactly` or `firstAvailable`, not both"))
            case (let exact?, nil):
                errors += exact.validate(path: "\(requestPath).exactly")
            case (nil, let alternatives?):
                let alternativesPath = "\(requestPath).firstAvailable"
                if alternatives.count > Self.maxSubRequests {
                    errors.append(
                        FieldError(
                            alternativesPath,
                            "Too many: \(alternatives.count): must have at most \(Self.maxSubRequests) items"))
                }
                var subNames: Set<String> = []
                for (j, alternative) in alternatives.enumerated() {
                    let alternativePath = "\(alternativesPath)[\(j)]"
                    errors += Validation.dnsLabelErrors(alternative.name, path: "\(alternativePath).name")
                    if !subNames.insert(alternative.name).inserted {
                        errors.append(FieldError("\(alternativePath).name", "Duplicate value: \"\(alternative.name)\""))
                    }
                    errors += alternative.request.validate(path: alternativePath)
                }
            }
        }
        return errors
    }
}

public struct DeviceClaim: Codable, Sendable, Equatable {
    public var requests: [DeviceRequest]

    public init(requests: [DeviceRequest]) { self.requests = requests }
}

/// One request of a claim: exactly these devices, or the first of several alternatives that can be allocated.
public struct DeviceRequest: Codable, Sendable, Equatable {
    public var name: String
    public var exactly: ExactDeviceRequest?
    /// Alternatives in order of preference; the first that fits is allocated.
    public var firstAvailable: [DeviceSubRequest]?

    public init(name: String, exactly: ExactDeviceRequest) {
        self.name = name
        self.exactly = exactly
    }

    public init(name: String, firstAvailable: [DeviceSubRequest]) {
        self.name = name
        self.firstAvailable = firstAvailable
    }

    /// The names allocation results may carry: the request's, or `request/alternative` for each alternative.
    var resultNames: [String] {
        [name] + (firstAvailable ?? []).map { "\(name)/\($0.name)" }
    }
}

/// What a request asks for: devices of a class, narrowed by selectors, so many or all that match.
public struct ExactDeviceRequest: Codable, Sendable, Equatable {
    public var deviceClassName: String
    public var selectors: [DeviceSelector]?
    /// `ExactCount` (the default) or `All`.
    public var allocationMode: AllocationMode?
    /// With `ExactCount`: how many devices (default 1).
    public var count: Int?

    public init(
        deviceClassName: String, selectors: [DeviceSelector]? = nil, allocationMode: AllocationMode? = nil,
        count: Int? = nil
    ) {
        self.deviceClassName = deviceClassName
        self.selectors = selectors
        self.allocationMode = allocationMode
        self.count = count
    }

    /// Kubernetes' bound on `count`, and on devices allocated for one claim.
    public static let maxCount = 32

    func validate(path: String) -> [FieldError] {
        var errors = Validation.dnsSubdomainErrors(deviceClassName, path: "\(path).deviceClassName")
        errors += DeviceSelector.validate(selectors, path: "\(path).selectors")
        let mode = allocationMode ?? .exactCount
        if !mode.isKnown {
            errors.append(.notSupported("\(path).allocationMode", mode.rawValue, allowed: AllocationMode.allowedValues))
        } else if mode == .all, count != nil {
            errors.append(FieldError("\(path).count", "Invalid value: must not be set with allocationMode All"))
        } else if let count, count < 1 || count > Self.maxCount {
            errors.append(
                FieldError("\(path).count", "Invalid value: \(count): must be between 1 and \(Self.maxCount)"))
        }
        return errors
    }
}

/// One alternative of `firstAvailable`.
public struct DeviceSubRequest: Codable, Sendable, Equatable {
    public var name: String
    public var deviceClassName: String
    public var selectors: [DeviceSelector]?
    public var allocationMode: AllocationMode?
    public var count: Int?

    public init(name: String, deviceClassName: String, selectors: [DeviceSelector]? = nil, count: Int? = nil) {
        self.name = name
        self.deviceClassName = deviceClassName
        self.selectors = selectors
        self.count = count
    }

    /// The alternative as a request of its own.
    public var request: ExactDeviceRequest {
        ExactDeviceRequest(
            deviceClassName: deviceClassName, selectors: selectors, allocationMode: allocationMode, count: count)
    }
}

/// How many matching devices a request takes: `ExactCount` (its `count`) or `All`.
public struct AllocationMode: StringEnum {
    public static let exactCount = Self("ExactCount")
    public static let all = Self("All")
    public static let allowed: [Self] = [.exactCount, .all]
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// `status` of a ResourceClaim.
public struct ResourceClaimStatus: Codable, Sendable, Equatable {
    public var allocation: AllocationResult?
    /// The pods the claim is reserved for; a claim reserved for no pod may be deallocated.
    public var reservedFor: [ResourceClaimConsumerReference]?

    public init(allocation: AllocationResult? = nil, reservedFor: [ResourceClaimConsumerReference]? = nil) {
        self.allocation = allocation
        self.reservedFor = reservedFor
    }
}

public struct AllocationResult: Codable, Sendable, Equatable {
    public var devices: DeviceAllocationResult?
    /// The nodes the allocated devices are reachable from.
    public var nodeSelector: NodeSelector?

    public init(results: [DeviceRequestAllocationResult], node: String?) {
        devices = DeviceAllocationResult(results: results)
        nodeSelector = node.map { NodeSelector(node: $0) }
    }
}

public struct DeviceAllocationResult: Codable, Sendable, Equatable {
    public var results: [DeviceRequestAllocationResult]
}

/// One allocated device: which request (or `request/alternative`) it answers, and where it is.
public struct DeviceRequestAllocationResult: Codable, Sendable, Equatable, Hashable {
    public var request: String
    public var driver: String
    public var pool: String
    public var device: String

    public init(request: String, driver: String, pool: String, device: String) {
        self.request = request
        self.driver = driver
        self.pool = pool
        self.device = device
    }
}

/// A consumer of a claim (a pod).
public struct ResourceClaimConsumerReference: Codable, Sendable, Equatable, Hashable {
    public var apiGroup: String?
    public var resource: String
    public var name: String
    public var uid: String

    public init(pod name: String, uid: String) {
        self.resource = "pods"
        self.name = name
        self.uid = uid
    }
}

/// A node selector as a claim's allocation carries it: the node the devices are on, by `metadata.name`.
public struct NodeSelector: Codable, Sendable, Equatable {
    public var nodeSelectorTerms: [NodeSelectorTerm]

    public init(node: String) {
        nodeSelectorTerms = [
            NodeSelectorTerm(matchFields: [
                NodeSelectorRequirement(key: "metadata.name", operator: "In", values: [node])
            ])
        ]
    }

    /// The one node named by `metadata.name In [node]`, as Starling writes it.
    public var node: String? {
        nodeSelectorTerms.first?.matchFields?.first { $0.key == "metadata.name" && $0.operator == "In" }?.values?.first
    }
}

public struct NodeSelectorTerm: Codable, Sendable, Equatable {
    public var matchExpressions: [NodeSelectorRequirement]?
    public var matchFields: [NodeSelectorRequirement]?

    public init(matchExpressions: [NodeSelectorRequirement]? = nil, matchFields: [NodeSelectorRequirement]? = nil) {
        self.matchExpressions = matchExpressions
        self.matchFields = matchFields
    }
}

/// A node selector's term has the shape of a label selector's: `key`, `operator`, `values`.
public typealias NodeSelectorRequirement = LabelSelectorRequirement
