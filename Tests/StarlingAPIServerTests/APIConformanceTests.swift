import Foundation
import StarlingAPI
import StarlingClient
import StarlingServerLimits
import StarlingTestSupport
import Testing

@testable import StarlingAPIServer

@Suite struct APIConformanceTests {
    @Test func createSetsServerFieldsAndGetReturnsIt() async throws {
        try await withAPIServer { client, _ in
            let created = try await client.create(Objects.service("a"))
            #expect(created.metadata.uid?.isEmpty == false)
            #expect(created.metadata.generation == 1)
            #expect(created.metadata.creationTimestamp != nil)
            #expect(created.metadata.resourceVersion != nil)
            let got = try await client.get(ModelService.self, name: "a")
            #expect(got == created)
        }
    }

    @Test func errorsAreStatusObjects() async throws {
        try await withAPIServer { client, _ in
            _ = try await client.create(Objects.service("a"))
            await #expect { try await client.create(Objects.service("a")) } throws: { error in
                let s = error as! Status
                return s.code == 409 && s.reason == "AlreadyExists" && s.kind == "Status"
            }
            await #expect { try await client.get(ModelService.self, name: "missing") } throws: { error in
                let s = error as! Status
                return s.code == 404 && s.reason == "NotFound"
                    && s.message == "modelservices.starling.dev \"missing\" not found"
            }
        }
    }

    @Test func invalidObjectsGet422NamingTheField() async throws {
        try await withAPIServer { client, _ in
            var svc = Objects.service("a")
            svc.spec.group = GroupSpec(size: 0)
            await #expect { try await client.create(svc) } throws: { error in
                let s = error as! Status
                return s.code == 422 && s.reason == "Invalid"
                    && (s.message ?? "").contains("spec.group.size: Invalid value: 0: must be >= 1")
                    && s.details?.causes?.first?.field == "spec.group.size"
            }
            let unknown =
                #"{"apiVersion":"starling.dev/v1alpha1","kind":"ModelService","metadata":{"name":"b"},"spec":{"model":"m","server":{"engine":"command","command":["x"]},"replica":2}}"#
            await #expect {
                _ = try await client.send(
                    .POST, path: ModelService.descriptor.path(namespace: "default"), body: Data(unknown.utf8))
            } throws: { error in
                ((error as! Status).message ?? "").contains("spec.replica: unknown field")
            }
        }
    }

    @Test func staleResourceVersionConflicts() async throws {
        try await withAPIServer { client, _ in
            let v1 = try await client.create(Objects.service("a"))
            var first = v1
            first.spec.replicas = 2
            _ = try await client.update(first)
            var stale = v1
            stale.spec.replicas = 3
            await #expect { try await client.update(stale) } throws: { ($0 as! Status).code == 409 }
            var noVersion = v1
            noVersion.metadata.resourceVersion = nil
            await #expect { try await client.update(noVersion) } throws: { ($0 as! Status).code == 422 }
        }
    }

    @Test func generationBumpsOnlyOnSpecChanges() async throws {
        try await withAPIServer { client, _ in
            var svc = try await client.create(Objects.service("a"))
            svc.metadata.labels = ["x": "y"]
            svc = try await client.update(svc)
            #expect(svc.metadata.generation == 1)
            svc.spec.replicas = 4
            svc = try await client.update(svc)
            #expect(svc.metadata.generation == 2)
            let unchanged = try await client.update(svc)
            #expect(unchanged.metadata.resourceVersion == svc.metadata.resourceVersion)
        }
    }

    @Test func statusAndSpecAreWrittenSeparately() async throws {
        try await withAPIServer { client, _ in
            var svc = try await client.create(Objects.service("a"))
            var withStatus = svc
            withStatus.status = ModelServiceStatus()
            withStatus.status?.readyReplicas = 7
            withStatus.spec.replicas = 9
            let afterStatus = try await client.updateStatus(withStatus)
            #expect(afterStatus.status?.readyReplicas == 7)
            #expect(afterStatus.spec.replicas == 1)
            #expect(afterStatus.metadata.generation == 1)
            svc = afterStatus
            svc.status?.readyReplicas = 0
            svc.spec.replicas = 2
            let afterSpec = try await client.update(svc)
            #expect(afterSpec.status?.readyReplicas == 7)
            #expect(afterSpec.spec.replicas == 2)
        }
    }

    @Test func scaleSubresource() async throws {
        try await withAPIServer { client, _ in
            _ = try await client.create(Objects.service("a", replicas: 2))
            let scale = try await client.getScale(ModelService.self, name: "a")
            #expect(scale.spec.replicas == 2)
            #expect(scale.kind == "Scale")
            let updated = try await client.updateScale(ModelService.self, name: "a", replicas: 5)
            #expect(updated.spec.replicas == 5)
            #expect(try await client.get(ModelService.self, name: "a").spec.replicas == 5)
            await #expect { try await client.updateScale(ModelService.self, name: "a", replicas: -1) } throws: {
                ($0 as! Status).code == 422
            }
        }
    }

    /// Engine `image` is valid in the API (a Kubernetes cluster runs it) but the embedded cluster refuses it, naming
    /// the field and where containers do run.
    @Test func embeddedClusterRefusesEngineImage() async throws {
        try await withAPIServer { client, _ in
            var service = Objects.service("vllm", replicas: 1)
            service.spec.server = ServerSpec(engine: .image)
            service.spec.server.image = "vllm/vllm-openai:v0.11.0"
            await #expect(
                performing: { try await client.create(service) },
                throws: { error in
                    let s = error as! Status
                    return s.code == 422 && s.details?.causes?.first?.field == "spec.server.engine"
                        && (s.message ?? "").contains("starling operator")
                })
        }
    }

    /// A replica count or group size beyond the cluster's limits is refused on create, update, patch and scale,
    /// naming the field, the limit and how to raise it; lowering a limit never blocks writes that keep the count.
    @Test func replicasAndGroupSizeAreBoundedByTheClusterLimits() async throws {
        let limits = ObjectLimits(maxReplicas: 10, maxGroupSize: 4, maxPodsPerModelService: 20)
        try await withAPIServer(limits: limits) { client, store in
            func refused(_ field: String, _ text: String) -> @Sendable (any Error) -> Bool {
                { error in
                    let s = error as! Status
                    return s.code == 422 && s.details?.causes?.first?.field == field
                        && (s.message ?? "").contains(text)
                }
            }
            await #expect(
                performing: { try await client.create(Objects.service("huge", replicas: 1_000_000_000)) },
                throws: refused("spec.replicas", "must be <= 10"))
            var wide = Objects.service("wide", replicas: 1)
            wide.spec.group = GroupSpec(size: 5)
            await #expect(performing: { try await client.create(wide) }, throws: refused("spec.group.size", "<= 4"))
            var many = Objects.service("many", replicas: 6)
            many.spec.group = GroupSpec(size: 4)
            await #expect(performing: { try await client.create(many) }, throws: refused("spec.replicas", "24 pods"))
            _ = try await client.create(Objects.service("a", replicas: 10))
            await #expect(
                performing: { try await client.updateScale(ModelService.self, name: "a", replicas: 11) },
                throws: refused("spec.replicas", "--max-replicas"))
            await #expect(
                performing: {
                    try await client.patch(
                        ModelService.self, name: "a", patch: .object(["spec": .object(["replicas": .int(1 << 40)])]))
                }, throws: refused("spec.replicas", "must be <= 10"))
            #expect(try await client.get(ModelService.self, name: "a").spec.replicas == 10)
            #expect(await store.limits == limits)
        }
        // The same object under a lower limit: status writes and unrelated spec changes still go through.
        let dir = try scratchDirectory("starling-limits")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withAPIServer(path: "\(dir)/state.db") { client, _ in
            _ = try await client.create(Objects.service("a", replicas: 900))
        }
        try await withAPIServer(path: "\(dir)/state.db", limits: ObjectLimits(maxReplicas: 100)) { client, _ in
            var svc = try await client.get(ModelService.self, name: "a")
            svc.status = ModelServiceStatus()
            svc.status?.readyReplicas = 3
            _ = try await client.updateStatus(svc)
            svc = try await client.get(ModelService.self, name: "a")
            svc.spec.model = "other"
            #expect(try await client.update(svc).spec.model == "other")
            await #expect(throws: Status.self) {
                try await client.updateScale(ModelService.self, name: "a", replicas: 901)
            }
        }
    }

    @Test func mergeAndJSONPatch() async throws {
        try await withAPIServer { client, _ in
            _ = try await client.create(Objects.service("a"))
            let merged = try await client.patch(
                ModelService.self, name: "a",
                patch: .object(["metadata": .object(["labels": .object(["k": .string("v")])])]))
            #expect(merged.metadata.labels == ["k": "v"])
            let patched = try await client.patch(
                ModelService.self, name: "a",
                patch: .array([
                    .object(["op": .string("replace"), "path": .string("/spec/replicas"), "value": .int(3)])
                ]),
                patchType: .json)
            #expect(patched.spec.replicas == 3)
            #expect(patched.metadata.generation == 2)
        }
    }

    @Test func listsFilterBySelectorsAndPage() async throws {
        try await withAPIServer { client, _ in
            for i in 0..<5 {
                _ = try await client.create(Objects.pod("p\(i)", labels: ["even": i % 2 == 0 ? "yes" : "no"]))
            }
            #expect(try await client.list(Pod.self, labelSelector: "even=yes").items.count == 3)
            #expect(
                try await client.list(Pod.self, fieldSelector: "metadata.name=p4").items.map(\.metadata.name) == ["p4"])
            let data = try await client.send(.GET, path: "/api/v1/namespaces/default/pods", query: [("limit", "2")])
            let page = try JSONValue.parse(data)
            #expect(page["items"]?.arrayValue?.count == 2)
            #expect(page.value(atPath: "metadata.continue")?.stringValue?.isEmpty == false)
            #expect(try await client.list(Pod.self).items.count == 5)
            await #expect { try await client.list(Pod.self, fieldSelector: "spec.colour=x") } throws: {
                ($0 as! Status).code == 400
            }
        }
    }

    @Test func watchResumesFromAResourceVersion() async throws {
        try await withAPIServer { client, _ in
            let a = try await client.create(Objects.pod("a"))
            _ = try await client.create(Objects.pod("b"))
            _ = try await client.patch(
                Pod.self, name: "a", patch: .object(["metadata": .object(["labels": .object(["x": .string("1")])])]))
            try await client.delete(Pod.self, name: "b")
            var seen: [String] = []
            for try await update in client.watch(
                Pod.self, namespace: "default", resourceVersion: a.metadata.resourceVersion, allowBookmarks: false)
            {
                switch update {
                case .added(let p): seen.append("ADDED \(p.metadata.nameOrEmpty)")
                case .modified(let p): seen.append("MODIFIED \(p.metadata.nameOrEmpty)")
                case .deleted(let p): seen.append("DELETED \(p.metadata.nameOrEmpty)")
                case .bookmark: break
                case .undecodable(let o): seen.append("UNDECODABLE \(o.key)")
                }
                if seen.count == 3 { break }
            }
            #expect(seen == ["ADDED b", "MODIFIED a", "DELETED b"])
        }
    }

    @Test func watchWithoutVersionStartsWithCurrentObjectsThenStreams() async throws {
        try await withAPIServer { client, _ in
            _ = try await client.create(Objects.pod("a"))
            var seen: [String] = []
            for try await update in client.watch(
                Pod.self, namespace: "default", resourceVersion: nil, allowBookmarks: false)
            {
                if case .added(let p) = update { seen.append(p.metadata.nameOrEmpty) }
                if seen == ["a"] { _ = try await client.create(Objects.pod("b")) }
                if seen.count == 2 { break }
            }
            #expect(seen == ["a", "b"])
        }
    }

    @Test func expiredVersionGets410() async throws {
        try await withAPIServer(historyLimit: 5) { client, _ in
            let first = try await client.create(Objects.pod("p"))
            for i in 0..<20 {
                _ = try await client.patch(
                    Pod.self, name: "p",
                    patch: .object(["metadata": .object(["labels": .object(["i": .string("\(i)")])])]))
            }
            await #expect {
                for try await _ in client.watch(
                    Pod.self, namespace: "default", resourceVersion: first.metadata.resourceVersion)
                {}
            } throws: { error in
                let s = error as! Status
                return s.code == 410 && s.reason == "Expired"
            }
        }
    }

    @Test func bookmarksCarryTheLatestVersion() async throws {
        try await withAPIServer(bookmarkInterval: .milliseconds(100)) { client, _ in
            let p = try await client.create(Objects.pod("p"))
            for try await update in client.watch(
                Pod.self, namespace: "default", resourceVersion: p.metadata.resourceVersion, allowBookmarks: true)
            {
                if case .bookmark(let rv) = update {
                    #expect(Int(rv)! >= Int(p.metadata.resourceVersion!)!)
                    break
                }
            }
        }
    }

    @Test func labelSelectedWatchSeesObjectsLeaveAsDeleted() async throws {
        try await withAPIServer { client, _ in
            let p = try await client.create(Objects.pod("p", labels: ["app": "x"]))
            _ = try await client.patch(
                Pod.self, name: "p", patch: .object(["metadata": .object(["labels": .object(["app": .string("y")])])]))
            for try await update in client.watch(
                Pod.self, namespace: "default", resourceVersion: p.metadata.resourceVersion, labelSelector: "app=x",
                allowBookmarks: false)
            {
                guard case .deleted(let gone) = update else {
                    Issue.record("expected DELETED, got \(update)")
                    break
                }
                #expect(gone.metadata.labels?["app"] == "y")
                break
            }
        }
    }

    @Test func backgroundDeletionCollectsDependents() async throws {
        try await withAPIServer { client, _ in
            let owner = try await client.create(Objects.service("o"))
            _ = try await client.create(Objects.pod("d1", owner: owner))
            _ = try await client.create(Objects.pod("d2", owner: owner))
            try await client.delete(ModelService.self, name: "o")
            #expect(try await client.list(Pod.self).items.isEmpty)
        }
    }

    @Test func foregroundDeletionWaitsForDependents() async throws {
        try await withAPIServer { client, _ in
            let owner = try await client.create(Objects.service("o"))
            _ = try await client.create(Objects.pod("d1", owner: owner))
            try await client.bind(namespace: "default", pod: "d1", node: "n")
            try await client.delete(
                ModelService.self, name: "o", options: DeleteOptions(propagationPolicy: "Foreground"))
            let pending = try await client.get(ModelService.self, name: "o")
            #expect(pending.metadata.deletionTimestamp != nil)
            #expect(pending.metadata.finalizers == ["foregroundDeletion"])
            // The bound pod terminates gracefully; its node agent confirms with a zero grace period.
            let pod = try await client.get(Pod.self, name: "d1")
            #expect(pod.metadata.deletionTimestamp != nil)
            try await client.delete(Pod.self, name: "d1", options: DeleteOptions(gracePeriodSeconds: 0))
            await #expect { try await client.get(ModelService.self, name: "o") } throws: { ($0 as! Status).code == 404 }
        }
    }

    @Test func orphanDeletionKeepsDependents() async throws {
        try await withAPIServer { client, _ in
            let owner = try await client.create(Objects.service("o"))
            _ = try await client.create(Objects.pod("d1", owner: owner))
            try await client.delete(ModelService.self, name: "o", options: DeleteOptions(propagationPolicy: "Orphan"))
            let pod = try await client.get(Pod.self, name: "d1")
            #expect(pod.metadata.ownerReferences == nil)
        }
    }

    @Test func finalizersHoldDeletionUntilRemoved() async throws {
        try await withAPIServer { client, _ in
            var svc = Objects.service("f")
            svc.metadata.finalizers = ["example.com/cleanup"]
            _ = try await client.create(svc)
            try await client.delete(ModelService.self, name: "f")
            var held = try await client.get(ModelService.self, name: "f")
            #expect(held.metadata.deletionTimestamp != nil)
            held.metadata.finalizers = ["example.com/cleanup", "new"]
            await #expect { try await client.update(held) } throws: { ($0 as! Status).code == 422 }
            held.metadata.finalizers = []
            _ = try await client.update(held)
            await #expect { try await client.get(ModelService.self, name: "f") } throws: { ($0 as! Status).code == 404 }
        }
    }

    @Test func bindingPlacesAPodOnce() async throws {
        try await withAPIServer { client, _ in
            _ = try await client.create(Objects.pod("p"))
            try await client.bind(
                namespace: "default", pod: "p", node: "n1", annotations: [WellKnown.devicesAnnotation: "0,1"])
            let pod = try await client.get(Pod.self, name: "p")
            #expect(pod.spec.nodeName == "n1")
            #expect(pod.metadata.annotations?[WellKnown.devicesAnnotation] == "0,1")
            #expect(pod.status?.conditions?.condition("PodScheduled")?.isTrue == true)
            await #expect { try await client.bind(namespace: "default", pod: "p", node: "n2") } throws: {
                ($0 as! Status).code == 409
            }
            var moved = pod
            moved.spec.nodeName = "n2"
            await #expect { try await client.update(moved) } throws: { ($0 as! Status).code == 422 }
        }
    }

    @Test func requestsWithoutTheTokenGet401() async throws {
        try await withAPIServer(token: "secret") { client, _ in
            let anonymous = try KubeClient(config: KubeConfig(server: client.config.server, token: nil))
            await #expect { try await anonymous.list(Pod.self) } throws: { error in
                let s = error as! Status
                return s.code == 401 && s.reason == "Unauthorized"
            }
            let wrong = try KubeClient(config: KubeConfig(server: client.config.server, token: "secreT"))
            await #expect { try await wrong.list(Pod.self) } throws: { ($0 as! Status).code == 401 }
            #expect(try await client.list(Pod.self).items.isEmpty)
        }
    }

    @Test func discoveryDescribesTheServedKinds() async throws {
        try await withAPIServer { client, _ in
            let groups = try JSONValue.parse(try await client.send(.GET, path: "/apis"))
            let names = groups["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("starling.dev") && names.contains("coordination.k8s.io"))
            let resources = try JSONValue.parse(try await client.send(.GET, path: "/apis/starling.dev/v1alpha1"))
            let rnames = resources["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(rnames == ["modelservices", "modelservices/status", "modelservices/scale"])
            let core = try JSONValue.parse(try await client.send(.GET, path: "/api/v1"))
            #expect(core["resources"]?.arrayValue?.contains { $0["name"]?.stringValue == "pods/binding" } == true)
            let version = try JSONValue.parse(try await client.send(.GET, path: "/version"))
            #expect(version["major"]?.stringValue == "1")
            await #expect { try await client.send(.GET, path: "/apis/apps/v1/deployments") } throws: {
                ($0 as! Status).code == 404
            }
        }
    }

    @Test func openAPIAdvertisesServerSideFieldValidation() async throws {
        try await withAPIServer { client, _ in
            let index = try JSONValue.parse(try await client.send(.GET, path: "/openapi/v3"))
            let url = index["paths"]?["apis/starling.dev/v1alpha1"]?["serverRelativeURL"]?.stringValue
            #expect(url == "/openapi/v3/apis/starling.dev/v1alpha1")
            let doc = try JSONValue.parse(try await client.send(.GET, path: url!))
            let patch = doc["paths"]?["/apis/starling.dev/v1alpha1/namespaces/{namespace}/modelservices/{name}"]?[
                "patch"]
            #expect(patch?["parameters"]?.arrayValue?.first?["name"]?.stringValue == "fieldValidation")
            #expect(patch?["x-kubernetes-group-version-kind"]?["kind"]?.stringValue == "ModelService")
            let schema = doc.value(atPath: "components.schemas")?["dev.starling.v1alpha1.ModelService"]
            #expect(schema?["x-kubernetes-group-version-kind"]?.arrayValue?.count == 1)
            // Every operation is described, with its body and a Status for errors (what scripts/fuzz-apiserver reads).
            let paths = doc["paths"]?.objectValue?.keys.sorted() ?? []
            #expect(paths.contains { $0.hasSuffix("/modelservices/{name}/scale") })
            #expect(paths.contains { $0.hasSuffix("/modelservices/{name}/status") })
            let create = doc["paths"]?["/apis/starling.dev/v1alpha1/namespaces/{namespace}/modelservices"]?["post"]
            #expect(create?.value(atPath: "requestBody.required") == .bool(true))
            #expect(
                create?["responses"]?["default"]?.value(atPath: "content")?["application/json"]?["schema"]?["$ref"]?
                    .stringValue == "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status")
        }
    }

    @Test func allNamespaceListsAndClusterScopedNodes() async throws {
        try await withAPIServer { client, _ in
            var other = Objects.pod("x")
            other.metadata.namespace = "team-b"
            _ = try await client.create(other)
            _ = try await client.create(Objects.pod("y"))
            #expect(try await client.list(Pod.self, namespace: nil).items.count == 2)
            #expect(try await client.list(Pod.self, namespace: "team-b").items.count == 1)
            _ = try await client.create(Node(metadata: ObjectMeta(name: "n1")))
            #expect(try await client.get(Node.self, name: "n1").metadata.namespace == nil)
        }
    }

    @Test func stateSurvivesReopeningTheDatabase() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("starling-\(UUID().uuidString).db")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rv = try await withAPIServer(path: path) { client, _ in
            _ = try await client.create(Objects.service("keep"))
            return try await client.get(ModelService.self, name: "keep").metadata.resourceVersion
        }
        try await withAPIServer(path: path) { client, _ in
            let svc = try await client.get(ModelService.self, name: "keep")
            #expect(svc.metadata.resourceVersion == rv)
            let next = try await client.create(Objects.service("next"))
            #expect(Int(next.metadata.resourceVersion!)! > Int(rv!)!)
        }
    }

    /// Labels, annotations, duplicate fields and NUL characters are checked as kube-apiserver checks them.
    @Test(arguments: [
        (#"{"labels":{"bad key":"v"}}"#, "metadata.labels", "name part must consist of"),
        (#"{"labels":{"k":"has space"}}"#, "metadata.labels", "a valid label value"),
        (#"{"labels":{"UPPER.example.com/k":"v"}}"#, "metadata.labels", "prefix part must be a lowercase"),
        (#"{"labels":{"k":"\#(String(repeating: "v", count: 64))"}}"#, "metadata.labels", "no more than 63"),
        (#"{"annotations":{"a/b/c":"v"}}"#, "metadata.annotations", "optional DNS subdomain prefix"),
    ])
    func metadataIsValidatedAsKubernetesDoes(metadata: String, field: String, message: String) async throws {
        try await withAPIServer { client, _ in
            var meta = metadata
            meta.insert(contentsOf: #""name":"m","#, at: meta.index(after: meta.startIndex))
            let body =
                #"{"apiVersion":"starling.dev/v1alpha1","kind":"ModelService","metadata":\#(meta),"spec":{"model":"m","server":{"engine":"command","command":["x"]}}}"#
            await #expect {
                _ = try await client.send(
                    .POST, path: ModelService.descriptor.path(namespace: "default"), body: Data(body.utf8))
            } throws: { error in
                let s = error as! Status
                return s.code == 422 && s.details?.causes?.first?.field == field && (s.message ?? "").contains(message)
            }
        }
    }

    @Test func oversizedLabelValuesAndAnnotationsAreRefused() async throws {
        try await withAPIServer { client, _ in
            var svc = Objects.service("big")
            svc.metadata.labels = ["k": String(repeating: "v", count: 1 << 20)]
            await #expect(throws: Status.self) { try await client.create(svc) }
            svc.metadata.labels = nil
            svc.metadata.annotations = ["k": String(repeating: "v", count: 300 * 1024)]
            await #expect { try await client.create(svc) } throws: { error in
                ((error as! Status).message ?? "").contains("metadata.annotations: Too long: must have at most 262144")
            }
            svc.metadata.annotations = ["k": String(repeating: "v", count: 200 * 1024)]
            _ = try await client.create(svc)
        }
    }

    @Test(arguments: [
        (
            #"{"apiVersion":"starling.dev/v1alpha1","kind":"ModelService","metadata":{"name":"d"},"spec":{"model":"m","replicas":1,"replicas":9,"server":{"engine":"command","command":["x"]}}}"#,
            "spec.replicas: duplicate field"
        ),
        (
            #"{"apiVersion":"starling.dev/v1alpha1","kind":"ModelService","metadata":{"name":"d","labels":{"a":"1","a":"2"}},"spec":{"model":"m","server":{"engine":"command","command":["x"]}}}"#,
            "metadata.labels.a: duplicate field"
        ),
        (
            #"{"apiVersion":"starling.dev/v1alpha1","kind":"ModelService","metadata":{"name":"d"},"spec":{"model":"m\u0000x","server":{"engine":"command","command":["x"]}}}"#,
            "spec.model: strings must not contain NUL"
        ),
        (
            #"{"apiVersion":"starling.dev/v1alpha1","kind":"ModelService","metadata":{"name":"d"},"spec":{"model":"m","server":{"engine":"command","command":["a","b\u0000"]}}}"#,
            "spec.server.command[1]: strings must not contain NUL"
        ),
    ])
    func strictDecodingRefusesDuplicateFieldsAndNUL(body: String, message: String) async throws {
        try await withAPIServer { client, _ in
            await #expect {
                _ = try await client.send(
                    .POST, path: ModelService.descriptor.path(namespace: "default"), body: Data(body.utf8))
            } throws: { error in
                let s = error as! Status
                return s.code == 400 && (s.message ?? "").contains("strict decoding error: \(message)")
            }
            let stored = try await client.list(ModelService.self).items
            #expect(stored.isEmpty)
        }
    }

    @Test func deleteAnswersWithTheDeletionsResourceVersion() async throws {
        try await withAPIServer { client, _ in
            let created = try await client.create(Objects.service("gone"))
            let data = try await client.send(
                .DELETE, path: ModelService.descriptor.path(namespace: "default", name: "gone"))
            let deleted = try JSONDecoder().decode(ModelService.self, from: data)
            let before = try #require(Int(created.metadata.resourceVersion ?? ""))
            let after = try #require(Int(deleted.metadata.resourceVersion ?? ""))
            #expect(after > before)
            let next = try await client.create(Objects.service("next"))
            #expect(Int(next.metadata.resourceVersion ?? "") == after + 1)
        }
    }

    @Test func theDatabaseAndItsLogAreOwnerOnly() async throws {
        let dir = try scratchDirectory("starling-mode")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/state.db"
        FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
        try await withAPIServer(path: path) { client, _ in
            _ = try await client.create(Objects.service("a"))
            for file in [path, path + "-wal", path + "-shm"] {
                let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
            }
        }
    }

    /// The API server's connection limits: a client that never sends a head (or never starts TLS) is closed after
    /// the header timeout, an extra connection gets a Status 503, and bodies past the shared budget get 429.
    @Test func connectionLimitsCloseSlowClientsAndRefuseExtraOnes() async throws {
        let limits = ConnectionLimits(
            headerTimeout: .milliseconds(300), bodyTimeout: .milliseconds(300), idleTimeout: .milliseconds(300),
            maxConnections: 2, maxBufferedBodyBytes: 6000, listenBacklog: 64)
        try await withAPIServer(token: nil, connectionLimits: limits, maxBodyBytes: 4000) { client, _, server in
            let port = server.port
            // Closed after 300 ms; the wait allows for a loaded machine (it returns as soon as the close comes).
            let silent = try RawConnection(port: port)
            #expect(await silent.readUntilClosed(timeout: .seconds(15)).closed)
            let slow = try RawConnection(port: port)
            slow.send("GET /api/v1/namespaces/default/pods HTTP/1.1\r\nho")
            #expect(await slow.readUntilClosed(timeout: .seconds(15)).closed)
            _ = client
        }
        var capped = limits
        capped.headerTimeout = .seconds(30)
        capped.bodyTimeout = .seconds(30)
        try await withAPIServer(token: nil, connectionLimits: capped, maxBodyBytes: 4000) { client, _, server in
            let port = server.port
            // Two connections hold the server (one of them mid-body).
            let first = try RawConnection(port: port)
            let second = try RawConnection(port: port)
            first.send(
                "POST /apis/starling.dev/v1alpha1/namespaces/default/modelservices HTTP/1.1\r\nhost: x\r\n"
                    + "content-type: application/json\r\ncontent-length: 4000\r\n\r\n{")
            try await eventually("both to be admitted", timeout: .seconds(5)) { server.connections.count == 2 }
            let extra = try RawConnection(port: port)
            extra.send("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            let (refused, closed) = await extra.readUntilClosed(timeout: .seconds(3))
            #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
            #expect(refused.contains(#""kind":"Status""#) && refused.contains("limit of 2 connections"))
            #expect(closed)
            // Closed before the server stops: cancelling Hummingbird with a body half read trips a NIO assertion.
            first.close()
            second.close()
            try await eventually("the connections to close", timeout: .seconds(5)) { server.connections.count == 0 }
            _ = client
        }
        var budget = limits
        budget.maxConnections = 10
        budget.bodyTimeout = .seconds(30)
        try await withAPIServer(token: nil, connectionLimits: budget, maxBodyBytes: 4000) { client, _, server in
            let port = server.port
            let holder = try RawConnection(port: port)
            holder.send(
                "POST /apis/starling.dev/v1alpha1/namespaces/default/modelservices HTTP/1.1\r\nhost: x\r\n"
                    + "content-type: application/json\r\ncontent-length: 4000\r\n\r\n{")
            try await eventually("the holder's body to be reserved", timeout: .seconds(5)) {
                server.bodies.inUse == 4000
            }
            let body = String(repeating: " ", count: 2500) + "{}"
            let second = try RawConnection(port: port)
            second.send(
                "POST /apis/starling.dev/v1alpha1/namespaces/default/modelservices HTTP/1.1\r\nhost: x\r\n"
                    + "content-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)")
            let (answer, _) = await second.readUntilClosed(timeout: .seconds(2))
            #expect(answer.hasPrefix("HTTP/1.1 429"), "\(answer)")
            #expect(answer.contains("limit of 6000 bytes of request bodies"))
            #expect(answer.lowercased().contains("retry-after: 1"))
            holder.close()
            second.close()
            // The holder's reservation comes back: a body fits again.
            try await eventually("the budget to come back", timeout: .seconds(5)) {
                (try? await client.create(Objects.service("fits"))) != nil
            }
            try await eventually("the raw connections to close", timeout: .seconds(5)) {
                server.bodies.inUse == 0 && server.connections.count <= 1
            }
        }
    }
}
