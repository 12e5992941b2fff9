import Foundation
import Logging
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingNodeAgent

/// Which accelerators a pod's process gets: the scheduler's choice in embedded mode, the node's lowest free ones for
/// a pod that asks for `nvidia.com/gpu` on a cluster.
@Suite struct DeviceAssignmentTests {
    static func pod(gpus: Int? = nil, annotation: String? = nil, requestsOnly: Bool = false) -> Pod {
        var resources: ResourceRequirements?
        if let gpus {
            let amounts = [WellKnown.acceleratorResource: String(gpus)]
            resources = requestsOnly ? ResourceRequirements(requests: amounts) : ResourceRequirements(limits: amounts)
        }
        var metadata = ObjectMeta(name: "p", namespace: "default")
        if let annotation { metadata.annotations = [WellKnown.devicesAnnotation: annotation] }
        return Pod(metadata: metadata, spec: PodSpec(containers: [Container(name: "c", resources: resources)]))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var pod: Pod
        var capacity: Int
        var taken: Set<Int>
        var expected: Result<[Int], DeviceAssignment.Shortage>
    }

    static let cases: [Case] = [
        .init(testDescription: "asks for none", pod: pod(), capacity: 8, taken: [], expected: .success([])),
        .init(
            testDescription: "the lowest free ones", pod: pod(gpus: 2), capacity: 8, taken: [0, 2],
            expected: .success([1, 3])),
        .init(
            testDescription: "requests count when there are no limits", pod: pod(gpus: 1, requestsOnly: true),
            capacity: 2, taken: [0], expected: .success([1])),
        .init(
            testDescription: "the scheduler's choice stands", pod: pod(gpus: 2, annotation: "4,5"), capacity: 8,
            taken: [4], expected: .success([4, 5])),
        .init(
            testDescription: "not enough free", pod: pod(gpus: 4), capacity: 8, taken: [0, 1, 2, 3, 4],
            expected: .failure(.init(requested: 4, free: 3, capacity: 8))),
        .init(
            testDescription: "a node without accelerators", pod: pod(gpus: 1), capacity: 0, taken: [],
            expected: .failure(.init(requested: 1, free: 0, capacity: 0))),
    ]

    @Test(arguments: cases) func chooses(_ c: Case) {
        #expect(DeviceAssignment.choose(for: c.pod, capacity: c.capacity, taken: c.taken) == c.expected)
    }

    /// The agent hands out disjoint devices, holds a pod that does not fit until devices free up, and says why.
    @Test func theAgentGivesEachPodItsOwnDevicesAndHoldsOneThatDoesNotFit() async throws {
        let (server, port) = try await EmbeddedAPIServer.start()
        defer { server.stopSoon() }
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)", namespace: "default"))
        let dir = try scratchDirectory("agent-devices")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let agent = NodeAgent(
            client: client,
            configuration: NodeAgentConfiguration(
                nodeNames: ["n0"], deviceCounts: ["n0": 4], logDirectory: "\(dir)/logs", runDirectory: "\(dir)/run",
                tick: .milliseconds(50)),
            logger: logger)
        let running = Task { try await agent.run() }
        defer { running.cancel() }
        func create(_ name: String, gpus: Int) async throws {
            let container = Container(
                name: "c", command: ["sh", "-c", "echo devices=$STARLING_DEVICES; exec sleep 600"],
                resources: ResourceRequirements(limits: [WellKnown.acceleratorResource: String(gpus)]))
            _ = try await client.create(
                Pod(metadata: ObjectMeta(name: name), spec: PodSpec(containers: [container], nodeName: "n0")))
        }
        func devices(_ name: String) -> String? {
            let path = NodeAgentConfiguration.logPath(directory: "\(dir)/logs", namespace: "default", pod: name)
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").first { $0.hasPrefix("devices=") }.map { String($0.dropFirst(8)) }
        }
        try await create("a", gpus: 3)
        try await eventually("a started") { devices("a") != nil }
        try await create("b", gpus: 2)
        try await eventually("b held with the reason") {
            let pod = try await client.get(Pod.self, name: "b")
            return pod.status?.containerStatuses?.first?.state?.waiting?.reason == "UnexpectedAdmissionError"
        }
        let held = try await client.get(Pod.self, name: "b")
        #expect(
            held.status?.containerStatuses?.first?.state?.waiting?.message
                == "Allocate failed: the pod asks for 2 nvidia.com/gpu but 1 of the node's 4 are free")
        #expect(devices("a") == "0,1,2")
        try await client.delete(Pod.self, name: "a", options: DeleteOptions(gracePeriodSeconds: 0))
        try await eventually("b started on the freed devices", timeout: .seconds(30)) { devices("b") != nil }
        #expect(devices("b") == "0,1")
    }
}
