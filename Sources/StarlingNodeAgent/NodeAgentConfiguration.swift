import StarlingAPI

/// Settings of the embedded node agent.
public struct NodeAgentConfiguration: Sendable {
    /// Nodes whose pods this agent runs.
    public var nodeNames: Set<String>
    /// Nodes whose devices are real GPUs (pods get `CUDA_VISIBLE_DEVICES`).
    public var realDeviceNodes: Set<String>
    /// Accelerators of each node, which pods asking for `nvidia.com/gpu` are given from.
    public var deviceCounts: [String: Int]
    /// Where pod logs go (`<namespace>_<pod>.log`).
    public var logDirectory: String
    /// Where the agent keeps its state (the process-group id of each running pod, for tools and tests); its path
    /// also names the agent's cgroup, so a restarted agent finds what an earlier run left.
    public var runDirectory: String
    /// How often pods are checked.
    public var tick: Duration
    /// First restart delay; doubles per restart up to `maxRestartBackoff`.
    public var restartBackoff: Duration
    public var maxRestartBackoff: Duration
    /// How pods' processes are kept track of (see `PodContainment`).
    public var containment: PodContainment.Mode
    /// Each node's published devices (`GPUInventory`), to tell a pod what its claims were given.
    public var inventories: [String: GPUInventory] = [:]

    public init(
        nodeNames: Set<String>, realDeviceNodes: Set<String> = [], deviceCounts: [String: Int] = [:],
        logDirectory: String, runDirectory: String,
        tick: Duration = .milliseconds(200), restartBackoff: Duration = .seconds(1),
        maxRestartBackoff: Duration = .seconds(30), containment: PodContainment.Mode = .auto
    ) {
        self.containment = containment
        self.nodeNames = nodeNames
        self.realDeviceNodes = realDeviceNodes
        self.deviceCounts = deviceCounts
        self.logDirectory = logDirectory
        self.runDirectory = runDirectory
        self.tick = tick
        self.restartBackoff = restartBackoff
        self.maxRestartBackoff = maxRestartBackoff
    }

    /// An agent running `nodes`: their names, which have real GPUs, and how many accelerators each has.
    public init(nodes: [Node], logDirectory: String, runDirectory: String) {
        self.init(
            nodeNames: Set(nodes.map(\.metadata.nameOrEmpty)),
            realDeviceNodes: Set(
                nodes.filter { $0.metadata.annotations?[WellKnown.realDevicesAnnotation] == "true" }.map(
                    \.metadata.nameOrEmpty)),
            deviceCounts: Dictionary(
                nodes.map { ($0.metadata.nameOrEmpty, $0.acceleratorCount) }, uniquingKeysWith: { a, _ in a }),
            logDirectory: logDirectory, runDirectory: runDirectory)
        inventories = Dictionary(
            nodes.compactMap { node in GPUInventory(node: node).map { (node.metadata.nameOrEmpty, $0) } },
            uniquingKeysWith: { a, _ in a })
    }

    /// The log file of a pod.
    public static func logPath(directory: String, namespace: String, pod: String) -> String {
        "\(directory)/\(namespace)_\(pod).log"
    }
}
