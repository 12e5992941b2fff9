import StarlingAPI
import Testing

@testable import StarlingCLI

@Suite struct NodeInventoryTests {
    @Test func compactInventorySpreadsNodesOverRacks() throws {
        let nodes = try NodeInventory.parse(
            """
            nodes:
              - namePrefix: gpu-
                count: 4
                racks: 2
                accelerator: H100-80GB
                devices: 8
              - name: big
                accelerator: A100-80GB
                devices: 4
                labels: {zone: z1}
            """, source: "nodes.yaml")
        #expect(nodes.map(\.metadata.nameOrEmpty) == ["gpu-0", "gpu-1", "gpu-2", "gpu-3", "big"])
        #expect(
            nodes.map { $0.metadata.labels?[WellKnown.rackLabel] ?? "" }.prefix(4) == [
                "rack-0", "rack-0", "rack-1", "rack-1",
            ])
        #expect(nodes[4].acceleratorType == "A100-80GB")
        #expect(nodes[4].acceleratorCount == 4)
        #expect(nodes[4].metadata.labels?["zone"] == "z1")
    }

    @Test(arguments: [
        ("nodes:\n  - name: a\n    devices: -1\n    accelerator: H100-80GB\n", "nodes[0].devices"),
        ("nodes:\n  - name: a\n    gpus: 2\n", "nodes[0].gpus: unknown field"),
        ("nodes:\n  - count: 2\n", "give `name`, or `namePrefix` with `count` >= 1"),
        ("nodes:\n  - name: a\n  - name: a\n", "duplicate node name \"a\""),
        ("hosts: []\n", "nodes: Required value"),
        ("nodes:\n  - name: a\n    accelerator: H100-80GB\n    devices: 2\n    mig: 3\n", "nodes[0].mig: must be true"),
        (
            "nodes:\n  - name: a\n    accelerator: L40S-48GB\n    devices: 2\n    mig: true\n",
            "L40S-48GB has no MIG profiles"
        ),
    ])
    func badInventoriesNameTheField(text: String, expected: String) {
        #expect {
            try NodeInventory.parse(text, source: "nodes.yaml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func migGPUsPublishTheirPartitions() throws {
        let nodes = try NodeInventory.parse(
            """
            nodes:
              - namePrefix: mig-
                count: 2
                accelerator: H100-80GB
                devices: 4
                mig: 1
              - name: all
                accelerator: A100-80GB
                devices: 2
                mig: true
            """, source: "nodes.yaml")
        #expect(nodes[0].metadata.annotations?[WellKnown.migDevicesAnnotation] == "0")
        #expect(nodes[2].metadata.annotations?[WellKnown.migDevicesAnnotation] == "0,1")
        let slices = try #require(GPUInventory(node: nodes[0])).resourceSlices()
        let devices = slices.flatMap { $0.spec.devices ?? [] }.map(\.name)
        // GPU 0 with its 18 placements, GPUs 1-3 whole.
        #expect(devices.count == 4 + 18)
        #expect(devices.contains("gpu-0-mig-3g-40gb-4") && !devices.contains("gpu-1-mig-3g-40gb-4"))
        #expect(slices.allSatisfy { $0.validate().isEmpty && $0.spec.nodeName == "mig-0" })
    }

    @Test(arguments: [
        ("NVIDIA H100 80GB HBM3", 81559, "H100-80GB"), ("NVIDIA A100-SXM4-40GB", 40960, "A100-SXM4-40GB"),
        ("NVIDIA L40S", 46068, "L40S-48GB"), ("NVIDIA H200", 143771, "H200-141GB"),
    ])
    func gpuNamesBecomeAcceleratorTypes(name: String, memory: Int, expected: String) {
        #expect(NodeInventory.acceleratorType(name: name, memoryMiB: memory) == expected)
    }
}
