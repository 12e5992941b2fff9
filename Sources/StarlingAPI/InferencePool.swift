/// The Gateway API Inference Extension's `InferencePool` (`inference.networking.k8s.io/v1`): the pods that serve
/// one base model, chosen by labels, and the ports their model servers listen on. Starling's gateway routes a pool
/// itself, so `endpointPickerRef` is kept but not called.
public struct InferencePool: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: WellKnown.inferenceGroup, version: "v1", kind: "InferencePool", plural: "inferencepools",
        singular: "inferencepool", namespaced: true, hasStatus: true)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: InferencePoolSpec
    /// Written by the gateways that use the pool (`parents`); kept as it comes.
    public var status: JSONValue?

    public init(metadata: ObjectMeta, spec: InferencePoolSpec) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
    }
}

/// `spec` of an InferencePool.
public struct InferencePoolSpec: Codable, Sendable, Equatable {
    /// The pods of the pool, by label, in the pool's namespace.
    public var selector: InferencePoolSelector
    /// The ports model servers listen on; each port of a Ready pod is one endpoint (1 to 8 ports).
    public var targetPorts: [InferencePoolPort]
    /// The endpoint picker another gateway would call; Starling's gateway picks endpoints itself.
    public var endpointPickerRef: JSONValue?

    public init(matchLabels: [String: String], targetPorts: [Int]) {
        self.selector = InferencePoolSelector(matchLabels: matchLabels)
        self.targetPorts = targetPorts.map { InferencePoolPort(number: $0) }
    }
}

/// `spec.selector` of an InferencePool: labels every pod of the pool carries.
public struct InferencePoolSelector: Codable, Sendable, Equatable {
    /// Label keys and values a pod must all have.
    public var matchLabels: [String: String]

    public init(matchLabels: [String: String]) { self.matchLabels = matchLabels }
}

/// A port of the pool's model servers.
public struct InferencePoolPort: Codable, Sendable, Equatable {
    /// The port number, 1-65535.
    public var number: Int

    public init(number: Int) { self.number = number }
}

extension InferencePool {
    /// The most ports an InferencePool may list, as in the Inference Extension.
    public static let maxTargetPorts = 8

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        if spec.selector.matchLabels.isEmpty {
            errors.append(FieldError("spec.selector.matchLabels", "Required value: at least one label"))
        }
        for key in spec.selector.matchLabels.keys.sorted() {
            let path = "spec.selector.matchLabels[\(key)]"
            errors += Validation.qualifiedNameErrors(key, path: path)
            errors += Validation.labelValueErrors(spec.selector.matchLabels[key] ?? "", path: path)
        }
        if spec.targetPorts.isEmpty || spec.targetPorts.count > Self.maxTargetPorts {
            errors.append(
                FieldError(
                    "spec.targetPorts",
                    "Invalid value: \(spec.targetPorts.count) items: must have 1 to \(Self.maxTargetPorts)"))
        }
        var seen = Set<Int>()
        for (i, port) in spec.targetPorts.enumerated() {
            let path = "spec.targetPorts[\(i)].number"
            if !(1...65535).contains(port.number) {
                errors.append(FieldError(path, "Invalid value: \(port.number): must be 1-65535"))
            } else if !seen.insert(port.number).inserted {
                errors.append(FieldError(path, "Duplicate value: \(port.number)"))
            }
        }
        return errors
    }
}

extension InferencePoolPort: OpenAPISchemaHinting {
    public static var schemaHints: [String: JSONValue] {
        ["number": .object(["minimum": .int(1), "maximum": .int(65535)])]
    }
}

extension InferencePoolSpec: OpenAPISchemaHinting {
    public static var schemaHints: [String: JSONValue] {
        ["targetPorts": .object(["minItems": .int(1), "maxItems": .int(Int64(InferencePool.maxTargetPorts))])]
    }
}
