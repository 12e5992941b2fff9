import StarlingAPI

/// A ModelService's accelerators as DRA claims: each host's pod gets its own claim made from one
/// ResourceClaimTemplate per revision, with one request (`accelerators`) of whole GPUs or MIG partitions, or a
/// `firstAvailable` list of them in the user's order. Types are matched on the devices' `productName`.
public enum AcceleratorClaims {
    /// The pod's claim name and the request's.
    public static let claimName = "accelerators"
    public static let requestName = "accelerators"

    /// The template's name for a service's revision.
    public static func templateName(service: String, revision: String) -> String {
        "\(service)-\(revision)-accelerators"
    }

    /// The claim spec each host's pod gets; nil when the service needs no devices.
    public static func claimSpec(_ accelerators: AcceleratorSpec?) -> ResourceClaimSpec? {
        guard let accelerators, accelerators.needsDevices else { return nil }
        let extra = accelerators.selector.map { [DeviceSelector($0)] } ?? []
        if let alternatives = accelerators.firstAvailable {
            var used: Set<String> = []
            let subRequests = alternatives.enumerated().map { i, choice in
                let base = choice.requestName.isEmpty ? "choice" : String(choice.requestName.prefix(50))
                let name = used.insert(base).inserted ? base : "\(base)-\(i)"
                used.insert(name)
                let exact = request(choice, extra: extra)
                return DeviceSubRequest(
                    name: name, deviceClassName: exact.deviceClassName, selectors: exact.selectors, count: exact.count)
            }
            return ResourceClaimSpec(requests: [DeviceRequest(name: requestName, firstAvailable: subRequests)])
        }
        let only = AcceleratorChoice(
            type: accelerators.type, count: accelerators.count, partition: accelerators.partition)
        return ResourceClaimSpec(requests: [DeviceRequest(name: requestName, exactly: request(only, extra: extra))])
    }

    static func request(_ choice: AcceleratorChoice, extra: [DeviceSelector]) -> ExactDeviceRequest {
        let domain = GPUInventory.driver
        var selectors: [DeviceSelector] = []
        if let type = choice.type {
            selectors.append(DeviceSelector(#"device.attributes["\#(domain)"].productName == "\#(type)""#))
        }
        if let partition = choice.partition {
            selectors.append(DeviceSelector(#"device.attributes["\#(domain)"].profile == "\#(partition)""#))
        }
        return ExactDeviceRequest(
            deviceClassName: choice.partition == nil ? GPUInventory.gpuClass : GPUInventory.migClass,
            selectors: selectors + extra, count: max(choice.count ?? 1, 1))
    }

    /// The template for a revision, owned by the service.
    public static func template(for service: ModelService, revision: String) -> ResourceClaimTemplate? {
        guard let spec = claimSpec(service.spec.accelerators) else { return nil }
        return ResourceClaimTemplate(
            metadata: ObjectMeta(
                name: templateName(service: service.metadata.nameOrEmpty, revision: revision),
                namespace: service.metadata.namespace ?? WellKnown.defaultNamespace,
                labels: [
                    WellKnown.modelServiceLabel: service.metadata.nameOrEmpty, WellKnown.revisionLabel: revision,
                ],
                ownerReferences: [service.ownerReference()]),
            spec: ResourceClaimTemplateSpec(spec: spec))
    }

    /// Which alternative an allocation answered: the choice of `accelerators` its results' request names.
    public static func allocatedChoice(
        _ accelerators: AcceleratorSpec?, results: [DeviceRequestAllocationResult]
    ) -> AcceleratorChoice? {
        guard let accelerators, let first = results.first else { return nil }
        guard let alternatives = accelerators.firstAvailable else { return accelerators.choices.first }
        guard let slash = first.request.firstIndex(of: "/") else { return nil }
        let sub = first.request[first.request.index(after: slash)...]
        guard let spec = claimSpec(accelerators), let subs = spec.devices?.requests.first?.firstAvailable,
            let i = subs.firstIndex(where: { $0.name == sub }), i < alternatives.count
        else { return nil }
        return alternatives[i]
    }
}
