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
    ])
    func badInventoriesNameTheField(text: String, expected: String) {
        #expect {
            try NodeInventory.parse(text, source: "nodes.yaml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test(arguments: [
        ("NVIDIA H100 80GB HBM3", 81559, "H100-80GB"), ("NVIDIA A100-SXM4-40GB", 40960, "A100-SXM4-40GB"),
        ("NVIDIA L40S", 46068, "L40S-48GB"), ("NVIDIA H200", 143771, "H200-141GB"),
    ])
    func gpuNamesBecomeAcceleratorTypes(name: String, memory: Int, expected: String) {
        #expect(NodeInventory.acceleratorType(name: name, memoryMiB: memory) == expected)
    }
}
