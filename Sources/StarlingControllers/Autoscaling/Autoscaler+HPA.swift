import StarlingAPI

extension Autoscaler {
    /// The Kubernetes HorizontalPodAutoscaler's algorithm, as a baseline to measure Starling's against
    /// (`scripts/bench-autoscale`): run every `hpaSyncPeriod` with `hpaBehavior(_:)`'s defaults, it decides as an HPA
    /// with an external per-pod metric does.
    ///
    /// desired = ceil(ready × metric per Ready pod / target), left alone within the 10% tolerance. When scaling up
    /// with pods not Ready yet, those count as using nothing: the ratio is recomputed over all of them, and if it no
    /// longer asks for more, the count stays (the HPA's own damping while pods start). It sees no held requests and
    /// never goes to or from zero.
    public static func hpaNeed(
        _ spec: AutoscalingSpec, current: Int, signals: AutoscaleSignals
    ) -> (Int, Double, String) {
        let ready = signals.ready.count
        guard ready > 0 else { return (current, 0, "no Ready pod reports") }
        let total = signals.ready.reduce(0.0) { sum, r in
            switch spec.metric {
            case .kvCache: return sum + r.kvCache
            case .concurrency: return sum + r.running + r.waiting
            default: return sum + r.waiting
            }
        }
        let perPod = total / Double(ready)
        var ratio = perPod / spec.target
        let reason = "\(spec.metric) \(((perPod * 10).rounded()) / 10) per pod, target \(spec.target) (HPA)"
        if abs(ratio - 1) <= tolerance { return (current, perPod, reason) }
        var pods = ready
        if ratio > 1 && signals.starting > 0 {
            pods = ready + signals.starting
            ratio = total / Double(pods) / spec.target
            if ratio <= 1 + tolerance { return (current, perPod, reason) }
        }
        return (Int((ratio * Double(pods)).rounded(.up)), perPod, reason)
    }

    /// The HPA's period between evaluations (`--horizontal-pod-autoscaler-sync-period`).
    public static let hpaSyncPeriod: Duration = .seconds(15)

    /// `spec` with an HPA's default behavior: scale up at once by up to max(100%, 4 pods) per 15 s; scale down
    /// after a 300 s window by up to 100% per 15 s; at least one replica.
    public static func hpaBehavior(_ spec: AutoscalingSpec) -> AutoscalingSpec {
        var hpa = spec
        hpa.minReplicas = max(1, spec.effectiveMinReplicas)
        hpa.scaleUp = ScalingBehavior(
            stabilizationWindowSeconds: 0,
            policies: [
                ScalingPolicy(type: .percent, value: 100, periodSeconds: 15),
                ScalingPolicy(type: .replicas, value: 4, periodSeconds: 15),
            ])
        hpa.scaleDown = ScalingBehavior(
            stabilizationWindowSeconds: 300, policies: [ScalingPolicy(type: .percent, value: 100, periodSeconds: 15)])
        return hpa
    }
}
