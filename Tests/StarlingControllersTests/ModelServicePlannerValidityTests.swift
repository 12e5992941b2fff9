import StarlingAPI
import Testing

@testable import StarlingControllers

/// What the planner does with a service it cannot act on (a kube-apiserver admits what the CRD schema allows, which
/// is less than Starling checks): nothing to the pods, and the reason in conditions and one Warning Event.
@Suite struct ModelServicePlannerValidityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var service: ModelService
        var limits = ObjectLimits.default
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "replicas beyond the operator's limit", service: Fixture.service(replicas: 50, size: 1),
            limits: ObjectLimits(maxReplicas: 10), message: "spec.replicas"),
        Case(
            name: "engine sim without a profile",
            service: {
                var s = Fixture.service()
                s.spec.server = ServerSpec(engine: .sim)
                return s
            }(), message: "spec.server.profile: Required value"),
        Case(
            name: "a feature not built yet",
            service: {
                var s = Fixture.service()
                s.spec.routing = RoutingSpec()
                s.spec.routing?.affinity = "prefix"
                return s
            }(), message: "spec.routing.affinity"),
    ]

    @Test(arguments: cases) func invalidServiceKeepsItsPodsAndSaysWhy(_ c: Case) {
        let planner = ModelServicePlanner(limits: c.limits)
        let valid = Fixture.service()
        let running = Fixture.pods(for: valid, groups: [0, 1])
        let plan = planner.plan(service: c.service, pods: running, now: "2026-12-05T00:00:00Z")
        #expect(plan.create.isEmpty && plan.delete.isEmpty)
        let failure = plan.status.conditions?.condition("ReplicaFailure")
        #expect(failure?.status == "True" && failure?.reason == "InvalidSpec")
        #expect(failure?.message?.contains(c.message) == true, "\(failure?.message ?? "")")
        #expect(plan.status.conditions?.condition("Progressing")?.reason == "InvalidSpec")
        #expect(plan.events.map(\.reason) == ["InvalidSpec"])
        // Reported once: the same errors on the next pass add no Event.
        var seen = c.service
        seen.status = plan.status
        #expect(planner.plan(service: seen, pods: running, now: "2026-12-05T00:00:01Z").events.isEmpty)
    }

    @Test func aPartitionOnAClusterWithoutDRAIsAConditionNotAStuckPod() {
        let planner = ModelServicePlanner(template: .kubernetes(starlingImage: "starling:test"))
        var service = Fixture.service()
        service.spec.accelerators = AcceleratorSpec(type: "H100-80GB", partition: "3g.40gb")
        let plan = planner.plan(service: service, pods: [], now: "2026-12-05T00:00:00Z")
        #expect(plan.create.isEmpty)
        let failure = plan.status.conditions?.condition("ReplicaFailure")
        #expect(failure?.reason == "DeviceClaimsUnavailable")
        #expect(
            failure?.message?.hasPrefix("spec.accelerators.partition: needs DRA (resource.k8s.io/v1)") == true,
            "\(failure?.message ?? "")")
        // Whole devices still work there, as nvidia.com/gpu.
        service.spec.accelerators = AcceleratorSpec(type: "H100-80GB", count: 2)
        let whole = planner.plan(service: service, pods: [], now: "2026-12-05T00:00:00Z")
        #expect(!whole.create.isEmpty)
        #expect(whole.create[0].spec.containers[0].resources?.limits?[WellKnown.acceleratorResource] == "2")
        #expect(whole.create[0].spec.resourceClaims == nil)
    }

    @Test func embeddedPodsGetTheirDevicesThroughClaims() {
        var service = Fixture.service()
        service.spec.accelerators = AcceleratorSpec(type: "H100-80GB", partition: "3g.40gb")
        let plan = ModelServicePlanner().plan(service: service, pods: [], now: "2026-12-05T00:00:00Z")
        let pod = try? #require(plan.create.first)
        let revision = pod?.metadata.labels?[WellKnown.revisionLabel] ?? ""
        #expect(
            pod?.spec.resourceClaims == [
                PodResourceClaim(
                    name: "accelerators",
                    resourceClaimTemplateName: AcceleratorClaims.templateName(
                        service: service.metadata.nameOrEmpty, revision: revision))
            ])
        #expect(pod?.spec.containers[0].resources?.claims == [ResourceClaimReference(name: "accelerators")])
        #expect(pod?.spec.nodeSelector == nil && pod?.spec.containers[0].resources?.limits == nil)
        let template = AcceleratorClaims.template(for: service, revision: revision)
        let request = template?.spec.spec.devices?.requests.first?.exactly
        #expect(request?.deviceClassName == GPUInventory.migClass)
        #expect(
            request?.selectors?.compactMap(\.cel?.expression) == [
                #"device.attributes["gpu.starling.dev"].productName == "H100-80GB""#,
                #"device.attributes["gpu.starling.dev"].profile == "3g.40gb""#,
            ])
    }

    @Test func firstAvailableBecomesOrderedSubRequestsAndTheAllocatedOneIsKnown() throws {
        var accelerators = AcceleratorSpec(type: nil)
        accelerators.firstAvailable = [
            AcceleratorChoice(type: "H100-80GB", count: 2), AcceleratorChoice(type: "A100-80GB", count: 4),
        ]
        let spec = try #require(AcceleratorClaims.claimSpec(accelerators))
        let subs = try #require(spec.devices?.requests.first?.firstAvailable)
        #expect(subs.map(\.name) == ["h100-80gb", "a100-80gb"])
        #expect(subs.map(\.count) == [2, 4])
        #expect(ResourceClaim(metadata: ObjectMeta(name: "c", namespace: "default"), spec: spec).validate().isEmpty)
        let results = (0..<4).map {
            DeviceRequestAllocationResult(
                request: "accelerators/a100-80gb", driver: GPUInventory.driver, pool: "n", device: "gpu-\($0)")
        }
        #expect(AcceleratorClaims.allocatedChoice(accelerators, results: results)?.type == "A100-80GB")
    }

    @Test func fixingTheSpecClearsTheFailure() {
        let planner = ModelServicePlanner(limits: ObjectLimits(maxReplicas: 10))
        var service = Fixture.service(replicas: 50, size: 1)
        service.status = planner.plan(service: service, pods: [], now: "t0").status
        service.spec.replicas = 2
        let plan = planner.plan(service: service, pods: [], now: "t1")
        #expect(plan.status.conditions?.condition("ReplicaFailure") == nil)
        #expect(plan.create.count == 2)
    }
}

/// `group.exclusiveTopology` on the pods: the annotation Starling's scheduler reads, and the pod affinity and
/// anti-affinity kube-scheduler reads, as LeaderWorkerSet writes them.
@Suite struct ExclusiveTopologyPodTests {
    @Test func podsCarryTheDomainRules() throws {
        var service = Fixture.service(replicas: 1, size: 2)
        service.spec.group?.exclusiveTopology = WellKnown.rackLabel
        let plan = ModelServicePlanner().plan(service: service, pods: [], now: "2026-12-05T00:00:00Z")
        let pod = try #require(plan.create.first)
        #expect(pod.metadata.annotations?[WellKnown.exclusiveTopologyAnnotation] == WellKnown.rackLabel)
        let gang = pod.metadata.labels?[WellKnown.gangLabel] ?? ""
        let together = pod.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution
        #expect(together?.first?.topologyKey == WellKnown.rackLabel)
        #expect(together?.first?.labelSelector?.matchLabels == [WellKnown.gangLabel: gang])
        let apart = pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []
        #expect(apart.map(\.topologyKey) == ["kubernetes.io/hostname", WellKnown.rackLabel])
        #expect(
            apart.last?.labelSelector?.matchExpressions == [
                LabelSelectorRequirement(key: WellKnown.gangLabel, operator: "Exists"),
                LabelSelectorRequirement(key: WellKnown.gangLabel, operator: "NotIn", values: [gang]),
            ])
    }
}
