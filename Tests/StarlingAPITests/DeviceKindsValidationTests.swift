import Foundation
import Testing

@testable import StarlingAPI

/// DRA's kinds (`resource.k8s.io/v1`) as Starling's API server checks them: every error names its field.
@Suite struct DeviceKindsValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Field paths the errors must name (and messages they must hold, after `: `); empty: the object is valid.
        var fields: [String]
        var yaml: String
    }

    static let slice = """
        apiVersion: resource.k8s.io/v1
        kind: ResourceSlice
        metadata: {name: node-1-gpu}
        """

    static let cases: [Case] = [
        Case(
            testDescription: "a slice of a GPU and a partition consuming counters", fields: [],
            yaml: slice + """

                spec:
                  driver: gpu.nvidia.com
                  pool: {name: node-1, generation: 1, resourceSliceCount: 2}
                  nodeName: node-1
                  devices:
                  - name: gpu-0
                    attributes:
                      type: {string: gpu}
                      index: {int: 0}
                      driverVersion: {version: 550.54.15}
                      topology.starling.dev/rack: {string: rack-a}
                    capacity: {memory: {value: 80Gi}}
                    consumesCounters: [{counterSet: gpu-0, counters: {memory-slice-0: {value: 1}, multiprocessors: {value: "132"}}}]
                  - name: gpu-0-mig-3g-40gb-0
                    capacity: {memory: {value: 40Gi}}
                    consumesCounters: [{counterSet: gpu-0, counters: {memory-slice-0: {value: 1}}}]
                """),
        Case(
            testDescription: "a counter slice", fields: [],
            yaml: slice + """

                spec:
                  driver: gpu.nvidia.com
                  pool: {name: node-1, generation: 1, resourceSliceCount: 2}
                  nodeName: node-1
                  sharedCounters: [{name: gpu-0, counters: {memory-slice-0: {value: 1}}}]
                """),
        Case(
            testDescription: "devices and counters in one slice, a repeated device, a bad name and attribute",
            fields: [
                "spec.sharedCounters: Invalid value: a slice with `sharedCounters` has no devices",
                "spec.devices[1].name: Duplicate value", "spec.devices[2].name",
                "spec.devices[0].attributes[index]: Invalid value: exactly one of int, bool, string, version (got 2)",
                "spec.devices[0].attributes[bad name]", "spec.devices[0].attributes[v].version",
            ],
            yaml: slice + """

                spec:
                  driver: gpu.nvidia.com
                  pool: {name: node-1, generation: 0, resourceSliceCount: 1}
                  nodeName: node-1
                  devices:
                  - name: gpu-0
                    attributes: {index: {int: 0, string: "0"}, bad name: {string: x}, v: {version: "1.2"}}
                  - name: gpu-0
                  - name: GPU_1
                  sharedCounters: [{name: gpu-0, counters: {memory-slice-0: {value: 1}}}]
                """),
        Case(
            testDescription: "a slice for no node, and a pool with no slices",
            fields: [
                "spec: Required value: exactly one of `nodeName` or `allNodes`", "spec.pool.resourceSliceCount",
                "spec.driver",
            ],
            yaml: slice + """

                spec: {driver: "", pool: {name: p, generation: 0, resourceSliceCount: 0}, devices: [{name: a}]}
                """),
        Case(
            testDescription: "a quantity that is not one", fields: ["spec.devices[0].capacity.memory.value"],
            yaml: slice + """

                spec: {driver: d.io, pool: {name: p, generation: 0, resourceSliceCount: 1}, allNodes: true, devices: [{name: a, capacity: {memory: {value: 4GB}}}]}
                """),
        Case(
            testDescription: "a class whose selector leaves the subset",
            fields: [
                #"spec.selectors[1].cel.expression: Invalid value: "device.attributes["gpu.nvidia.com"].index + 1 > 2": unsupported `+`"#
            ],
            yaml: """
                apiVersion: resource.k8s.io/v1
                kind: DeviceClass
                metadata: {name: gpu.nvidia.com}
                spec:
                  selectors:
                  - cel: {expression: 'device.driver == "gpu.nvidia.com"'}
                  - cel: {expression: 'device.attributes["gpu.nvidia.com"].index + 1 > 2'}
                """),
        Case(
            testDescription: "a claim with first-available alternatives", fields: [],
            yaml: """
                apiVersion: resource.k8s.io/v1
                kind: ResourceClaim
                metadata: {name: c, namespace: default}
                spec:
                  devices:
                    requests:
                    - name: gpus
                      firstAvailable:
                      - {name: h100, deviceClassName: gpu.nvidia.com, count: 2, selectors: [{cel: {expression: 'device.attributes["gpu.nvidia.com"].productName == "H100-80GB"'}}]}
                      - {name: a100, deviceClassName: gpu.nvidia.com, count: 4}
                    - name: slice
                      exactly: {deviceClassName: mig.nvidia.com, allocationMode: All}
                """),
        Case(
            testDescription: "a claim with bad requests",
            fields: [
                "spec.devices.requests[0]: Required value: exactly one of `exactly` or `firstAvailable`",
                "spec.devices.requests[1]: Invalid value: exactly one of `exactly` or `firstAvailable`, not both",
                "spec.devices.requests[2].exactly.count: Invalid value: 0", "spec.devices.requests[3].name: Duplicate",
                "spec.devices.requests[3].exactly.allocationMode: Unsupported value: \"Some\"",
                "spec.devices.requests[4].exactly.count: Invalid value: must not be set with allocationMode All",
                "spec.devices.requests[5].firstAvailable[1].name: Duplicate",
                "spec.devices.requests[5].firstAvailable[1].selectors[0].cel.expression",
            ],
            yaml: """
                apiVersion: resource.k8s.io/v1
                kind: ResourceClaim
                metadata: {name: c, namespace: default}
                spec:
                  devices:
                    requests:
                    - name: a
                    - {name: b, exactly: {deviceClassName: g}, firstAvailable: [{name: x, deviceClassName: g}]}
                    - {name: c, exactly: {deviceClassName: g, count: 0}}
                    - {name: c, exactly: {deviceClassName: g, allocationMode: Some}}
                    - {name: e, exactly: {deviceClassName: g, allocationMode: All, count: 2}}
                    - name: f
                      firstAvailable:
                      - {name: x, deviceClassName: g}
                      - {name: x, deviceClassName: g, selectors: [{cel: {expression: 'device.attributes["g"].all(a, a)'}}]}
                """),
        Case(
            testDescription: "a template with no requests", fields: ["spec.spec.devices.requests: Required value"],
            yaml: """
                apiVersion: resource.k8s.io/v1
                kind: ResourceClaimTemplate
                metadata: {name: t, namespace: default}
                spec: {spec: {devices: {requests: []}}}
                """),
        Case(
            testDescription: "a pod whose container uses a claim it does not have",
            fields: [
                "spec.resourceClaims[1]: Invalid value: exactly one of `resourceClaimName` or `resourceClaimTemplateName`",
                "spec.containers[0].resources.claims[1].name: Invalid value: \"missing\"",
            ],
            yaml: """
                apiVersion: v1
                kind: Pod
                metadata: {name: p, namespace: default}
                spec:
                  resourceClaims: [{name: gpu, resourceClaimTemplateName: t}, {name: both, resourceClaimName: a, resourceClaimTemplateName: t}]
                  containers:
                  - {name: c, command: [sleep], resources: {claims: [{name: gpu}, {name: missing}]}}
                """),
    ]

    @Test(arguments: cases) func errorsNameTheirFields(_ c: Case) throws {
        let document = try #require(try ManifestDecoder.documents(from: c.yaml, source: "test.yaml").first)
        var errors: [String] = []
        do {
            switch document.kind {
            case "ResourceSlice": _ = try ObjectDecoding.decode(document.value, as: ResourceSlice.self)
            case "DeviceClass": _ = try ObjectDecoding.decode(document.value, as: DeviceClass.self)
            case "ResourceClaim": _ = try ObjectDecoding.decode(document.value, as: ResourceClaim.self)
            case "ResourceClaimTemplate": _ = try ObjectDecoding.decode(document.value, as: ResourceClaimTemplate.self)
            default: _ = try ObjectDecoding.decode(document.value, as: Pod.self)
            }
        } catch {
            errors = error.errors.map(\.description)
        }
        if c.fields.isEmpty {
            #expect(errors.isEmpty)
        }
        for field in c.fields {
            #expect(errors.contains { $0.hasPrefix(field) }, "\(field) not in \(errors)")
        }
    }

    @Test func attributesRoundTripInKubernetesShape() throws {
        let device = Device(
            name: "gpu-0", attributes: ["index": .int(0), "type": .string("gpu")],
            capacity: ["memory": DeviceCapacity(Quantity("80Gi")!)])
        let json = String(decoding: try JSONEncoder().encode(device), as: UTF8.self)
        #expect(json.contains(#""index":{"int":0}"#) && json.contains(#""memory":{"value":"80Gi"}"#), "\(json)")
        #expect(try JSONDecoder().decode(Device.self, from: Data(json.utf8)) == device)
    }
}
