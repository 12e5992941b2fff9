/// `spec.autoscaling`: the autoscaler keeps `spec.replicas` (through the scale subresource) between `minReplicas`
/// and `maxReplicas`, so that `metric` per replica stays near `target`.
public struct AutoscalingSpec: Codable, Sendable, Equatable {
    /// Fewest replicas; 0 lets the service scale to zero when idle (default 1).
    public var minReplicas: Int?
    /// Most replicas.
    public var maxReplicas: Int
    /// The signal scaled on: `queue` (requests waiting per replica, the gateway's held requests included),
    /// `kvCache` (KV-cache usage per replica, 0 to 1) or `concurrency` (requests running and waiting per replica).
    public var metric: AutoscalingMetric
    /// The metric's target value per replica.
    public var target: Double
    /// How fast replicas are added.
    public var scaleUp: ScalingBehavior?
    /// How fast replicas are removed.
    public var scaleDown: ScalingBehavior?
    /// With `minReplicas: 0`, how long a service must have had no request before it goes to zero (default 300).
    public var scaleToZeroAfterSeconds: Int?

    public init(minReplicas: Int? = nil, maxReplicas: Int, metric: AutoscalingMetric, target: Double) {
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.metric = metric
        self.target = target
    }

    /// `minReplicas` with its default.
    public var effectiveMinReplicas: Int { minReplicas ?? 1 }
    /// `scaleToZeroAfterSeconds` with its default.
    public var effectiveScaleToZeroAfterSeconds: Int { scaleToZeroAfterSeconds ?? 300 }
}

/// The signal a ModelService scales on.
public struct AutoscalingMetric: StringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Requests waiting per replica: the model servers' `vllm:num_requests_waiting` plus those the gateway holds.
    public static let queue = AutoscalingMetric(rawValue: "queue")
    /// KV-cache usage per replica (`vllm:kv_cache_usage_perc`, 0 to 1).
    public static let kvCache = AutoscalingMetric(rawValue: "kvCache")
    /// Requests running and waiting per replica, plus those the gateway holds.
    public static let concurrency = AutoscalingMetric(rawValue: "concurrency")
    public static let allowed: [AutoscalingMetric] = [.queue, .kvCache, .concurrency]
}

/// `spec.autoscaling.scaleUp` / `scaleDown`: a stabilization window and rate limits, as an HPA's behavior.
public struct ScalingBehavior: Codable, Sendable, Equatable {
    /// Recommendations of this long ago are considered too: a scale-down goes only as low as the highest of them,
    /// a scale-up only as high as the lowest. Defaults: 0 up, 30 down.
    public var stabilizationWindowSeconds: Int?
    /// Limits on the change per period; the most permissive applies. None: no limit.
    public var policies: [ScalingPolicy]?

    public init(stabilizationWindowSeconds: Int? = nil, policies: [ScalingPolicy]? = nil) {
        self.stabilizationWindowSeconds = stabilizationWindowSeconds
        self.policies = policies
    }
}

/// A limit on how much the replica count may change within a period.
public struct ScalingPolicy: Codable, Sendable, Equatable {
    /// `Replicas` (a number of replicas) or `Percent` (of the replicas at the period's start).
    public var type: ScalingPolicyType
    /// How many replicas, or what percentage.
    public var value: Int
    /// The period the limit applies to.
    public var periodSeconds: Int

    public init(type: ScalingPolicyType, value: Int, periodSeconds: Int) {
        self.type = type
        self.value = value
        self.periodSeconds = periodSeconds
    }
}

/// How a `ScalingPolicy` counts.
public struct ScalingPolicyType: StringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let replicas = ScalingPolicyType(rawValue: "Replicas")
    public static let percent = ScalingPolicyType(rawValue: "Percent")
    public static let allowed: [ScalingPolicyType] = [.replicas, .percent]
}

/// `status.autoscaling`: what the autoscaler saw and decided last.
public struct AutoscalingStatus: Codable, Sendable, Equatable {
    /// The metric per replica when it last decided.
    public var currentValue: Double?
    /// The replicas it wants.
    public var desiredReplicas: Int?
    /// Why, in words (`queue 7.2 per replica > target 3`).
    public var reason: String?
    /// When it last changed the replica count (RFC 3339).
    public var lastScaleTime: String?

    public init(
        currentValue: Double? = nil, desiredReplicas: Int? = nil, reason: String? = nil, lastScaleTime: String? = nil
    ) {
        self.currentValue = currentValue
        self.desiredReplicas = desiredReplicas
        self.reason = reason
        self.lastScaleTime = lastScaleTime
    }
}
