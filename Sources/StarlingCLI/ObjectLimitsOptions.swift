import ArgumentParser
import StarlingAPI

/// The cluster's ceilings on one ModelService, shared by `starling up` (its API server refuses writes beyond
/// them) and `starling operator` (which does not act on a ModelService beyond them).
struct ObjectLimitsOptions: ParsableArguments {
    @Option(help: "Most replicas (groups) one ModelService may ask for.")
    var maxReplicas: Int = ObjectLimits.default.maxReplicas

    @Option(help: "Most hosts in one group (spec.group.size).")
    var maxGroupSize: Int = ObjectLimits.default.maxGroupSize

    @Option(name: .customLong("max-pods-per-modelservice"), help: "Most pods (replicas x group size) per ModelService.")
    var maxPodsPerModelService: Int = ObjectLimits.default.maxPodsPerModelService

    /// The limits, checked.
    func limits() throws -> ObjectLimits {
        let limits = ObjectLimits(
            maxReplicas: maxReplicas, maxGroupSize: maxGroupSize, maxPodsPerModelService: maxPodsPerModelService)
        if let problem = limits.validate().first { throw ValidationError(problem) }
        return limits
    }
}
