import Foundation

extension ModelService {
    /// Longest ModelService name whose pod names (`<name>-<group>-<worker>`) still fit a DNS label.
    public static let maxNameLength = 52

    /// Every field error in the object. Fields whose behaviour a later release brings are accepted only with
    /// the values honoured today; anything else is rejected as not supported yet.
    public func validate() -> [FieldError] {
        var errors = Validation.dnsLabelErrors(
            metadata.nameOrEmpty, path: "metadata.name", maxLength: Self.maxNameLength)
        errors += spec.validate(path: "spec")
        return errors
    }
}

extension ModelServiceSpec {
    func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if model.trimmingCharacters(in: .whitespaces).isEmpty { errors.append(.required("\(path).model")) }
        if let replicas, replicas < 0 {
            errors.append(FieldError("\(path).replicas", "Invalid value: \(replicas): must be >= 0"))
        }
        if let group { errors += group.validate(path: "\(path).group") }
        if let accelerators { errors += accelerators.validate(path: "\(path).accelerators") }
        errors += server.validate(path: "\(path).server")
        if let adapters, !adapters.isEmpty {
            if server.engine == .sim {
                var seen = Set<String>()
                for (i, adapter) in adapters.enumerated() {
                    let field = "\(path).adapters[\(i)].name"
                    if adapter.name.isEmpty || adapter.name.contains(where: { $0 == "=" || $0 == " " }) {
                        errors.append(
                            FieldError(
                                field, "Invalid value: \"\(adapter.name)\": must be non-empty, without '=' or spaces"))
                    } else if adapter.name == model || !seen.insert(adapter.name).inserted {
                        errors.append(FieldError(field, "Duplicate value: \"\(adapter.name)\""))
                    }
                }
            } else {
                errors.append(
                    .notSupportedYet("\(path).adapters", "LoRA adapters are loaded only by engine \"sim\" so far"))
            }
        }
        if let autoscaling { errors += autoscaling.validate(path: "\(path).autoscaling") }
        if let rollout { errors += rollout.validate(path: "\(path).rollout") }
        if let routing { errors += routing.validate(path: "\(path).routing") }
        return errors
    }
}

extension GroupSpec {
    func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if let size, size < 1 {
            errors.append(FieldError("\(path).size", "Invalid value: \(size): must be >= 1"))
        }
        if let restartPolicy, !restartPolicy.isKnown {
            errors.append(
                .notSupported(
                    "\(path).restartPolicy", restartPolicy.rawValue, allowed: GroupRestartPolicy.allowedValues))
        }
        if let startupPolicy, !startupPolicy.isKnown {
            errors.append(
                .notSupported("\(path).startupPolicy", startupPolicy.rawValue, allowed: StartupPolicy.allowedValues))
        }
        if let exclusiveTopology {
            errors += Validation.qualifiedNameErrors(exclusiveTopology, path: "\(path).exclusiveTopology")
        }
        return errors
    }
}

extension AcceleratorSpec {
    func validate(path: String) -> [FieldError] {
        var errors = AcceleratorChoice(type: type, count: count, partition: partition).validate(path: path)
        if let selector {
            do {
                _ = try DeviceSelectorExpression(selector)
            } catch {
                errors.append(FieldError("\(path).selector", "Invalid value: \"\(selector)\": \(error)"))
            }
        }
        if let firstAvailable {
            if type != nil || count != nil || partition != nil {
                errors.append(
                    FieldError(
                        "\(path).firstAvailable",
                        "Invalid value: give the alternatives in firstAvailable, or type/count/partition, not both"))
            }
            if firstAvailable.isEmpty {
                errors.append(FieldError("\(path).firstAvailable", "Required value: at least one alternative"))
            }
            if firstAvailable.count > ResourceClaimSpec.maxSubRequests {
                errors.append(
                    FieldError(
                        "\(path).firstAvailable",
                        "Too many: \(firstAvailable.count): must have at most \(ResourceClaimSpec.maxSubRequests) items"
                    ))
            }
            for (i, choice) in firstAvailable.enumerated() {
                errors += choice.validate(path: "\(path).firstAvailable[\(i)]")
                if choice.type == nil && choice.partition == nil {
                    errors.append(
                        FieldError("\(path).firstAvailable[\(i)]", "Required value: a type or a partition"))
                }
            }
        }
        return errors
    }
}

extension AcceleratorChoice {
    func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if let type, type.isEmpty { errors.append(FieldError("\(path).type", "must not be empty")) }
        if let count {
            if count < 0 || count > ExactDeviceRequest.maxCount {
                errors.append(
                    FieldError(
                        "\(path).count", "Invalid value: \(count): must be between 0 and \(ExactDeviceRequest.maxCount)"
                    ))
            }
            if count > 0 && type == nil && partition == nil {
                errors.append(FieldError("\(path).type", "Required value: count > 0 needs a type or a partition"))
            }
        }
        if let partition {
            let known = type.map { MIGProfile.profiles(for: $0) } ?? MIGProfile.gpu80GB
            if type != nil && known.isEmpty {
                errors.append(
                    FieldError(
                        "\(path).partition",
                        "Invalid value: \"\(partition)\": \(type ?? "") has no MIG profiles Starling knows "
                            + "(it partitions H100-80GB and A100-80GB)"))
            } else if !known.contains(where: { $0.name == partition }) {
                errors.append(.notSupported("\(path).partition", partition, allowed: known.map(\.name)))
            }
        }
        return errors
    }
}

extension ServerSpec {
    func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        switch engine {
        case .command:
            if (command ?? []).isEmpty {
                errors.append(FieldError("\(path).command", "Required value: engine \"command\" needs a command"))
            }
            if image != nil { errors.append(FieldError("\(path).image", "must not be set with engine \"command\"")) }
            if profile != nil { errors.append(FieldError("\(path).profile", "is only for engine \"sim\"")) }
        case .sim:
            if let profile {
                if !WellKnown.simulatorProfiles.contains(profile) {
                    errors.append(.notSupported("\(path).profile", profile, allowed: WellKnown.simulatorProfiles))
                }
            } else {
                errors.append(
                    FieldError(
                        "\(path).profile",
                        "Required value: engine \"sim\" needs a profile (one of "
                            + WellKnown.simulatorProfiles.joined(separator: ", ") + ")"))
            }
            if command != nil {
                errors.append(
                    FieldError("\(path).command", "must not be set with engine \"sim\" (use args for extra options)"))
            }
            if image != nil { errors.append(FieldError("\(path).image", "must not be set with engine \"sim\"")) }
        case .image:
            if (image ?? "").isEmpty {
                errors.append(FieldError("\(path).image", "Required value: engine \"image\" needs an image"))
            }
            if profile != nil { errors.append(FieldError("\(path).profile", "is only for engine \"sim\"")) }
        default:
            errors.append(.notSupported("\(path).engine", engine.rawValue, allowed: Engine.allowedValues))
        }
        if let grace = terminationGracePeriodSeconds, !(0...3600).contains(grace) {
            errors.append(
                FieldError("\(path).terminationGracePeriodSeconds", "Invalid value: \(grace): must be 0 to 3600"))
        }
        if let port, !(1...65535).contains(port) {
            errors.append(FieldError("\(path).port", "Invalid value: \(port): must be between 1 and 65535, inclusive"))
        }
        for (field, value) in [("readinessPath", readinessPath), ("metricsPath", metricsPath)] {
            if let value, !value.hasPrefix("/") {
                errors.append(FieldError("\(path).\(field)", "Invalid value: \"\(value)\": must start with '/'"))
            }
        }
        var seen = Set<String>()
        for (i, e) in (env ?? []).enumerated() {
            errors += Validation.envNameErrors(e.name, path: "\(path).env[\(i)].name")
            if !seen.insert(e.name).inserted {
                errors.append(FieldError("\(path).env[\(i)].name", "Duplicate value: \"\(e.name)\""))
            }
        }
        return errors
    }
}

extension AutoscalingSpec {
    func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let minimum = effectiveMinReplicas
        if minimum < 0 {
            errors.append(FieldError("\(path).minReplicas", "Invalid value: \(minimum): must be >= 0"))
        }
        if maxReplicas < 1 {
            errors.append(FieldError("\(path).maxReplicas", "Invalid value: \(maxReplicas): must be >= 1"))
        } else if minimum > maxReplicas {
            errors.append(
                FieldError(
                    "\(path).minReplicas",
                    "Invalid value: \(minimum): must be <= spec.autoscaling.maxReplicas (\(maxReplicas))"))
        }
        if !metric.isKnown {
            errors.append(.notSupported("\(path).metric", metric.rawValue, allowed: AutoscalingMetric.allowedValues))
        }
        if !(target > 0) || !target.isFinite {
            errors.append(FieldError("\(path).target", "Invalid value: \(target): must be a positive number"))
        } else if metric == .kvCache && target > 1 {
            errors.append(
                FieldError("\(path).target", "Invalid value: \(target): KV-cache usage is a fraction, at most 1"))
        }
        if let seconds = scaleToZeroAfterSeconds, seconds < 0 {
            errors.append(FieldError("\(path).scaleToZeroAfterSeconds", "Invalid value: \(seconds): must be >= 0"))
        }
        for (name, behavior) in [("scaleUp", scaleUp), ("scaleDown", scaleDown)] {
            guard let behavior else { continue }
            let behaviorPath = "\(path).\(name)"
            if let window = behavior.stabilizationWindowSeconds, !(0...3600).contains(window) {
                errors.append(
                    FieldError(
                        "\(behaviorPath).stabilizationWindowSeconds", "Invalid value: \(window): must be 0 to 3600"))
            }
            for (i, policy) in (behavior.policies ?? []).enumerated() {
                let policyPath = "\(behaviorPath).policies[\(i)]"
                if !policy.type.isKnown {
                    errors.append(
                        .notSupported(
                            "\(policyPath).type", policy.type.rawValue, allowed: ScalingPolicyType.allowedValues))
                }
                if policy.value < 1 {
                    errors.append(FieldError("\(policyPath).value", "Invalid value: \(policy.value): must be >= 1"))
                }
                if !(1...1800).contains(policy.periodSeconds) {
                    errors.append(
                        FieldError(
                            "\(policyPath).periodSeconds", "Invalid value: \(policy.periodSeconds): must be 1 to 1800"))
                }
            }
        }
        return errors
    }
}

extension RolloutSpec {
    func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let unavailable = Self.validate(maxUnavailable, path: "\(path).maxUnavailable", errors: &errors)
        let surge = Self.validate(maxSurge, path: "\(path).maxSurge", errors: &errors)
        if unavailable == 0 && (surge ?? 0) == 0 {
            errors.append(
                FieldError(
                    "\(path).maxUnavailable",
                    "Invalid value: \(maxUnavailable.map(Self.describe) ?? "0"): may not be 0 when maxSurge is 0 "
                        + "(the rollout could never replace a group)"))
        }
        if let partition, partition < 0 {
            errors.append(FieldError("\(path).partition", "Invalid value: \(partition): must be >= 0"))
        }
        return errors
    }

    /// The amount an int-or-percent names (a count, or a percentage from 0 to 100), or nil with an error added
    /// when it is neither.
    static func validate(_ value: IntOrString?, path: String, errors: inout [FieldError]) -> Int? {
        guard let value else { return nil }
        switch value {
        case .int(let count):
            if count < 0 {
                errors.append(FieldError(path, "Invalid value: \(count): must be >= 0"))
                return nil
            }
            return count
        case .string(let text):
            guard let percent = percentage(text) else {
                errors.append(
                    FieldError(
                        path, "Invalid value: \"\(text)\": must be an integer or a percentage such as \"25%\""))
                return nil
            }
            if percent > 100 {
                errors.append(FieldError(path, "Invalid value: \"\(text)\": must not be greater than 100%"))
                return nil
            }
            return percent
        }
    }

    /// `25%` → 25, as Kubernetes reads an int-or-percent (digits then `%`); nil for anything else.
    public static func percentage(_ text: String) -> Int? {
        guard text.hasSuffix("%") else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            return nil
        }
        return Int(digits)
    }

    static func describe(_ value: IntOrString) -> String {
        switch value {
        case .int(let count): String(count)
        case .string(let text): "\"\(text)\""
        }
    }
}

extension RoutingSpec {
    func validate(path: String) -> [FieldError] {
        var errors: [FieldError] = []
        if let seconds = holdTimeoutSeconds, seconds < 1 {
            errors.append(FieldError("\(path).holdTimeoutSeconds", "Invalid value: \(seconds): must be >= 1"))
        }
        if let held = maxHeldRequests, held < 0 {
            errors.append(FieldError("\(path).maxHeldRequests", "Invalid value: \(held): must be >= 0"))
        }
        if let criticality {
            if !criticality.isKnown {
                errors.append(
                    .notSupported("\(path).criticality", criticality.rawValue, allowed: Criticality.allowedValues))
            }
        }
        if affinity != nil {
            errors.append(
                .notSupportedYet(
                    "\(path).affinity", "the gateway's default policy already weighs prefix, session and LoRA affinity")
            )
        }
        return errors
    }
}
