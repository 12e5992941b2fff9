/// DRA's `DeviceClass` (`resource.k8s.io/v1`): a named set of devices, chosen by selectors every request of the
/// class adds to its own (`gpu.nvidia.com` whole GPUs, `mig.nvidia.com` partitions).
public struct DeviceClass: KubernetesResource {
    public static let descriptor = ResourceDescriptor(
        group: WellKnown.resourceGroup, version: "v1", kind: "DeviceClass", plural: "deviceclasses",
        singular: "deviceclass", namespaced: false)

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: DeviceClassSpec

    public init(metadata: ObjectMeta, spec: DeviceClassSpec) {
        self.apiVersion = Self.descriptor.apiVersion
        self.kind = Self.descriptor.kind
        self.metadata = metadata
        self.spec = spec
    }

    public func validate() -> [FieldError] { DeviceSelector.validate(spec.selectors, path: "spec.selectors") }
}

/// `spec` of a DeviceClass.
public struct DeviceClassSpec: Codable, Sendable, Equatable {
    public var selectors: [DeviceSelector]?

    public init(selectors: [DeviceSelector]) { self.selectors = selectors }
}

/// One selector: a CEL expression a device must satisfy.
public struct DeviceSelector: Codable, Sendable, Equatable {
    public var cel: CELDeviceSelector?

    public init(_ expression: String) { cel = CELDeviceSelector(expression: expression) }

    /// Kubernetes' bound on selectors per class or request.
    public static let maxSelectors = 32
    /// Kubernetes' bound on an expression's length.
    public static let maxExpressionLength = 10 * 1024

    static func validate(_ selectors: [DeviceSelector]?, path: String) -> [FieldError] {
        guard let selectors else { return [] }
        var errors: [FieldError] = []
        if selectors.count > maxSelectors {
            errors.append(FieldError(path, "Too many: \(selectors.count): must have at most \(maxSelectors) items"))
        }
        for (i, selector) in selectors.enumerated() {
            guard let expression = selector.cel?.expression else {
                errors.append(.required("\(path)[\(i)].cel"))
                continue
            }
            let expressionPath = "\(path)[\(i)].cel.expression"
            if expression.count > maxExpressionLength {
                errors.append(
                    FieldError(expressionPath, "Too long: must have at most \(maxExpressionLength) characters"))
                continue
            }
            do {
                _ = try DeviceSelectorExpression(expression)
            } catch {
                errors.append(FieldError(expressionPath, "Invalid value: \"\(expression)\": \(error)"))
            }
        }
        return errors
    }
}

public struct CELDeviceSelector: Codable, Sendable, Equatable {
    public var expression: String
}
