import Foundation
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingManifests

@Suite struct CustomResourceDefinitionTests {
    @Test func modelServiceDefinitionNamesSubresourcesAndColumns() throws {
        let crd = try CustomResourceDefinitions.definition(for: ModelService.self, columns: ModelService.printerColumns)
        #expect(crd.value(atPath: "metadata.name") == .string("modelservices.starling.dev"))
        #expect(crd.value(atPath: "spec.names.shortNames") == .array([.string("ms")]))
        #expect(crd.value(atPath: "spec.scope") == .string("Namespaced"))
        let version = try #require(crd.value(atPath: "spec.versions")?.arrayValue?.first)
        #expect(version["name"] == .string("v1alpha1"))
        #expect(version.value(atPath: "subresources.status") == .object([:]))
        #expect(version.value(atPath: "subresources.scale.labelSelectorPath") == .string(".status.selector"))
        let columns = version["additionalPrinterColumns"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(columns?.prefix(6) == ["Model", "Replicas", "Ready", "Up-to-date", "Available", "Age"])
        #expect(version.value(atPath: "schema.openAPIV3Schema.properties.spec.properties.replicas.default") == .int(1))
    }

    @Test func yamlIsAStableMultiDocumentStream() throws {
        let text = try ClusterManifests.yaml(try ClusterManifests.objects())
        #expect(text.hasPrefix("---\napiVersion: apiextensions.k8s.io/v1\n"))
        #expect(text == (try ClusterManifests.yaml(try ClusterManifests.objects())))
        let documents = try ManifestDecoder.documents(from: text, source: "manifests")
        #expect(
            documents.map(\.kind) == [
                "CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
                "RoleBinding", "Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment",
                "Service",
            ])
    }
}

/// The CRDs on a real kube-apiserver: accepted as structural, served with the scale subresource and printer
/// columns, and rejecting bad objects with the field paths Starling's own validation uses.
@Suite(.serialized) struct CustomResourceDefinitionClusterTests {
    let cluster: KubeTestEnvironment.Endpoint
    let client: KubeClient
    let namespace: String

    init() async throws {
        cluster = try await KubeTestEnvironment.shared.start()
        client = try KubeClient(config: try KubeConfig.load(path: cluster.kubeconfig))
        namespace = "crd-\(UInt32.random(in: 0...UInt32.max))"
        try await KubeTestEnvironment.shared.installDefinitions()
        let created = try cluster.kubectl(["create", "namespace", namespace])
        #expect(created.status == 0, "\(created.output)")
    }

    func modelService(_ name: String, replicas: Int? = 2) -> ModelService {
        var spec = ModelServiceSpec(model: "m", server: ServerSpec(engine: .sim))
        spec.server.profile = "llama-3.1-8b-h100"
        spec.replicas = replicas
        return ModelService(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec)
    }

    @Test func modelServiceRoundTripsWithScaleAndStatus() async throws {
        let created = try await client.create(modelService("a", replicas: nil))
        #expect(created.spec.replicas == 1, "the schema's default")
        let scale = try await client.updateScale(ModelService.self, namespace: namespace, name: "a", replicas: 3)
        #expect(scale.spec.replicas == 3)
        var withStatus = try await client.get(ModelService.self, namespace: namespace, name: "a")
        #expect(withStatus.spec.replicas == 3)
        var status = ModelServiceStatus()
        status.replicas = 3
        status.readyReplicas = 1
        status.selector = "starling.dev/modelservice=a"
        withStatus.status = status
        let updated = try await client.updateStatus(withStatus)
        #expect(updated.status?.readyReplicas == 1)
        let scaled = try await client.getScale(ModelService.self, namespace: namespace, name: "a")
        #expect(scaled.status?.selector == "starling.dev/modelservice=a")
        let printed = try cluster.kubectl(["get", "ms", "-n", namespace])
        #expect(printed.status == 0)
        let header = printed.output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(
            header.split(separator: " ", omittingEmptySubsequences: true).map(String.init) == [
                "NAME", "MODEL", "REPLICAS", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
            ])
        try await client.delete(ModelService.self, namespace: namespace, name: "a")
    }

    @Test func badObjectsAreRejectedWithFieldPaths() async throws {
        let manifest = """
            apiVersion: starling.dev/v1alpha1
            kind: ModelService
            metadata: {name: bad, namespace: \(namespace)}
            spec:
              model: m
              replicas: -1
              group: {size: 0}
              server: {engine: bogus, port: 70000, readinessPath: health}
            """
        // --validate=false: the kube-apiserver's answer, not kubectl's own check of the published schema.
        let result = try cluster.kubectl(["apply", "--validate=false", "-f", "-"], input: manifest)
        #expect(result.status != 0)
        for field in [
            "spec.replicas", "spec.group.size", "spec.server.engine", "spec.server.port", "spec.server.readinessPath",
        ] {
            #expect(result.output.contains(field), "\(field) missing from: \(result.output)")
        }
        let missing = try cluster.kubectl(
            ["apply", "--validate=false", "-f", "-"],
            input:
                "apiVersion: starling.dev/v1alpha1\nkind: ModelService\nmetadata: {name: bad2, namespace: \(namespace)}\n"
                + "spec: {replicas: 1}\n")
        #expect(missing.status != 0)
        #expect(missing.output.contains("spec.model") && missing.output.contains("spec.server"), "\(missing.output)")
    }

    @Test func inferencePoolsAreServedAndBadOnesRejectedWithFieldPaths() async throws {
        let good = try cluster.kubectl(
            ["apply", "-f", "-"],
            input: """
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: good, namespace: \(namespace)}
                spec:
                  selector: {matchLabels: {app: vllm}}
                  targetPorts: [{number: 8000}]
                  endpointPickerRef: {name: epp, port: {number: 9002}}
                """)
        #expect(good.status == 0, "\(good.output)")
        let bad = try cluster.kubectl(
            ["apply", "--validate=false", "-f", "-"],
            input: """
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: bad, namespace: \(namespace)}
                spec:
                  selector: {matchLabels: {app: vllm}}
                  targetPorts: [{number: 70000}]
                """)
        #expect(bad.status != 0)
        // v1.20 names array items without their index: spec.targetPorts.number.
        #expect(bad.output.contains("spec.targetPorts") && bad.output.contains("65535"), "\(bad.output)")
        let empty = try cluster.kubectl(
            ["apply", "--validate=false", "-f", "-"],
            input: """
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: empty, namespace: \(namespace)}
                spec: {selector: {matchLabels: {app: vllm}}, targetPorts: []}
                """)
        #expect(empty.status != 0)
        #expect(empty.output.contains("spec.targetPorts"), "\(empty.output)")
    }
}

/// `deploy/` holds exactly what `starling manifests` prints, in a form `kubectl apply -k deploy/` takes.
@Suite struct DeployDirectoryTests {
    static let root = KubeTestEnvironment.packageRoot

    @Test func deployMatchesStarlingManifests() throws {
        let checkedIn = try String(contentsOfFile: Self.root + "/deploy/starling.yaml", encoding: .utf8)
        let generated = try ClusterManifests.yaml(try ClusterManifests.objects())
        #expect(
            checkedIn == generated,
            "deploy/starling.yaml drifted from `starling manifests`: run swift run starling manifests > deploy/starling.yaml"
        )
    }

    @Test func kustomizeBuildsTheSameObjects() async throws {
        let cluster = try await KubeTestEnvironment.shared.start()
        let built = try cluster.kubectl(["kustomize", Self.root + "/deploy"])
        #expect(built.status == 0, "\(built.output)")
        let documents = try ManifestDecoder.documents(from: built.output, source: "kustomize")
        let expected = try ClusterManifests.objects()
        #expect(documents.count == expected.count)
        let names = Set(documents.map { "\($0.kind ?? "")/\($0.name ?? "")" })
        let expectedNames = Set(
            expected.map { "\($0["kind"]?.stringValue ?? "")/\($0.value(atPath: "metadata.name")?.stringValue ?? "")" })
        #expect(names == expectedNames)
    }
}
