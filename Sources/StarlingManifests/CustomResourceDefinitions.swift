import StarlingAPI

/// CustomResourceDefinitions (`apiextensions.k8s.io/v1`) for Starling's own kinds, generated from the Swift types:
/// the schema from `OpenAPISchema`, names and subresources from the `ResourceDescriptor`, columns from the kind's
/// `PrinterColumn`s.
public enum CustomResourceDefinitions {
    /// The kinds Starling defines (group `starling.dev`), with their printer columns.
    public static let kinds: [(type: any KubernetesResource.Type, columns: [PrinterColumn])] = [
        (ModelService.self, ModelService.printerColumns)
    ]

    /// The Gateway API Inference Extension's kinds the gateway follows, for clusters without the Extension's own
    /// CRDs (`starling manifests --inference-extension-crds`). Their schemas cover the fields Starling reads and
    /// keep the rest (`endpointPickerRef`, `status`) as written.
    public static let inferenceExtensionKinds: [any KubernetesResource.Type] = [
        InferencePool.self, InferenceObjective.self, InferenceModelRewrite.self,
    ]

    /// Every CRD, in a stable order.
    public static func all() throws -> [JSONValue] {
        try kinds.map { try definition(for: $0.type, columns: $0.columns) }
    }

    /// The CRDs of `inferenceExtensionKinds`.
    public static func inferenceExtension() throws -> [JSONValue] {
        try inferenceExtensionKinds.map { type in
            var crd = try definition(for: type, columns: [])
            if type.descriptor.group.hasSuffix(".k8s.io") {
                // Groups under k8s.io are protected: a CRD there must name its API review, as the Extension's do.
                crd["metadata"]?["annotations"] = .object([
                    "api-approved.kubernetes.io": .string(
                        "https://github.com/kubernetes-sigs/gateway-api-inference-extension/pull/1173")
                ])
            }
            return crd
        }
    }

    /// The CRD of one kind.
    public static func definition(
        for type: any KubernetesResource.Type, columns: [PrinterColumn]
    ) throws -> JSONValue {
        let d = type.descriptor
        var names: [String: JSONValue] = [
            "kind": .string(d.kind), "listKind": .string(d.listKind), "plural": .string(d.plural),
            "singular": .string(d.singular),
        ]
        if !d.shortNames.isEmpty { names["shortNames"] = .array(d.shortNames.map { .string($0) }) }
        if !d.categories.isEmpty { names["categories"] = .array(d.categories.map { .string($0) }) }
        var subresources: [String: JSONValue] = [:]
        if d.hasStatus { subresources["status"] = .object([:]) }
        if d.hasScale {
            subresources["scale"] = .object([
                "specReplicasPath": .string(".spec.replicas"), "statusReplicasPath": .string(".status.replicas"),
                "labelSelectorPath": .string(".status.selector"),
            ])
        }
        var version: [String: JSONValue] = [
            "name": .string(d.version), "served": .bool(true), "storage": .bool(true),
            "schema": .object(["openAPIV3Schema": try OpenAPISchema.ofResource(type)]),
        ]
        if !subresources.isEmpty { version["subresources"] = .object(subresources) }
        if !columns.isEmpty { version["additionalPrinterColumns"] = .array(columns.map(\.definition)) }
        return .object([
            "apiVersion": .string("apiextensions.k8s.io/v1"),
            "kind": .string("CustomResourceDefinition"),
            "metadata": .object([
                "name": .string("\(d.plural).\(d.group)"),
                "labels": .object(ClusterManifests.labels(component: "crd")),
            ]),
            "spec": .object([
                "group": .string(d.group), "names": .object(names),
                "scope": .string(d.namespaced ? "Namespaced" : "Cluster"),
                "versions": .array([.object(version)]),
            ]),
        ])
    }
}
