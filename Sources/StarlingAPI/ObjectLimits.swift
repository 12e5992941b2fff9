/// Per-cluster ceilings on how much work one object may ask for, checked by the API server on every write
/// (create, update, patch and the scale subresource), so that one field cannot exhaust the control plane.
///
/// The defaults follow Kubernetes' own published scale limits: a cluster of at most 5,000 nodes, so no
/// ModelService may need more pods than that; a replica count of 1,000 groups leaves room for every single-host
/// replica shape on such a cluster; 64 hosts per group is more than any NVLink domain (GB200 NVL72 racks hold 18
/// trays) and twice what published multi-host vLLM deployments use.
public struct ObjectLimits: Sendable, Equatable {
    /// Most groups (`spec.replicas`) a ModelService may ask for.
    public var maxReplicas: Int
    /// Most hosts in one group (`spec.group.size`).
    public var maxGroupSize: Int
    /// Most pods (replicas × group size) one ModelService may need.
    public var maxPodsPerModelService: Int

    public init(maxReplicas: Int = 1_000, maxGroupSize: Int = 64, maxPodsPerModelService: Int = 5_000) {
        self.maxReplicas = maxReplicas
        self.maxGroupSize = maxGroupSize
        self.maxPodsPerModelService = maxPodsPerModelService
    }

    /// The defaults.
    public static let `default` = ObjectLimits()

    /// Field errors for an object of `kind` that exceeds these limits; empty when within them.
    public func errors(kind: String, object: JSONValue) -> [FieldError] {
        guard kind == ModelService.descriptor.kind else { return [] }
        var errors: [FieldError] = []
        let replicas = object.value(atPath: "spec.replicas")?.intValue ?? 1
        let size = object.value(atPath: "spec.group.size")?.intValue ?? 1
        if replicas > maxReplicas {
            errors.append(
                FieldError(
                    "spec.replicas",
                    "Invalid value: \(replicas): must be <= \(maxReplicas) (this cluster's limit; "
                        + "--max-replicas of `starling up` or `starling operator` raises it)"))
        }
        if size > maxGroupSize {
            errors.append(
                FieldError(
                    "spec.group.size",
                    "Invalid value: \(size): must be <= \(maxGroupSize) (this cluster's limit; "
                        + "--max-group-size of `starling up` or `starling operator` raises it)"))
        }
        let (pods, overflow) = replicas.multipliedReportingOverflow(by: size)
        if errors.isEmpty && (overflow || pods > maxPodsPerModelService) {
            errors.append(
                FieldError(
                    "spec.replicas",
                    "Invalid value: \(replicas): \(replicas) groups of \(size) hosts need \(pods) pods, more than "
                        + "this cluster's limit of \(maxPodsPerModelService) per ModelService "
                        + "(--max-pods-per-modelservice of `starling up` or `starling operator` raises it)"))
        }
        return errors
    }

    /// Problems with the limits themselves (each must be at least 1), naming the flag.
    public func validate() -> [String] {
        var problems: [String] = []
        if maxReplicas < 1 { problems.append("--max-replicas: must be >= 1 (got \(maxReplicas))") }
        if maxGroupSize < 1 { problems.append("--max-group-size: must be >= 1 (got \(maxGroupSize))") }
        if maxPodsPerModelService < 1 {
            problems.append("--max-pods-per-modelservice: must be >= 1 (got \(maxPodsPerModelService))")
        }
        return problems
    }
}
