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

    @Test func realMIGDevicesAreWhatNvidiaSmiLists() throws {
        let listed = NodeInventory.migInstances(
            fromList: """
                GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77)
                  MIG 3g.40gb     Device  0: (UUID: MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f)
                  MIG 3g.40gb     Device  1: (UUID: MIG-cba663e8-9bed-5b25-b243-5985ef7c9beb)
                GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-0a1b2c3d-0000-1111-2222-333344445555)
                GPU 2: NVIDIA H100 80GB HBM3 (UUID: GPU-9f8e7d6c-0000-1111-2222-333344445555)
                  MIG 1g.10gb     Device  0: (UUID: MIG-11111111-2222-3333-4444-555555555555)
                """)
        #expect(listed.keys.sorted() == [0, 2])
        #expect(
            listed[0]?.map(\.uuid) == [
                "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f", "MIG-cba663e8-9bed-5b25-b243-5985ef7c9beb",
            ])
        #expect(
            listed[2]?.first
                == GPUInventory.MIGInstance(
                    profile: "1g.10gb", ordinal: 0, uuid: "MIG-11111111-2222-3333-4444-555555555555"))

        // GPUs 0 and 1 in MIG mode (GPU 1 with no MIG device yet), GPU 2 whole.
        let node = NodeInventory.makeNode(
            name: "real", accelerator: "H100-80GB", devices: 3, real: true, mig: [0, 1],
            uuids: ["GPU-a", "GPU-b", "GPU-c"], migInstances: [0: listed[0] ?? []])
        let inventory = try #require(GPUInventory(node: node))
        let devices = inventory.gpus.map { inventory.devices(of: $0) }
        // Only the MIG devices that exist, with their UUIDs, and not the GPU whole (CUDA sees only its MIG devices).
        #expect(devices[0].map(\.name) == ["gpu-0-mig-3g-40gb-device-0", "gpu-0-mig-3g-40gb-device-1"])
        #expect(devices[0].first?.attributes?["uuid"] == .string("MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f"))
        #expect(devices[1].isEmpty)
        #expect(devices[2].map(\.name) == ["gpu-2"])
        #expect(devices[2].first?.attributes?["uuid"] == .string("GPU-c"))
    }
}
