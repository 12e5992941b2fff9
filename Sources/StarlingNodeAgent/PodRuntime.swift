import StarlingAPI

/// What the agent knows about one pod it runs.
struct PodRuntime {
    var namespace: String
    var name: String
    var uid: String
    /// The pod's own loopback address (`status.podIP`).
    var podIP: String
    /// The port it serves on that address: its first declared `containerPort`.
    var port: Int
    /// The node it runs on.
    var node: String?
    /// The accelerators of its node it was given, once it was (`DeviceAssignment`).
    var devices: [Int]?
    /// What its claims' devices put in its environment, once they were read.
    var claimEnvironment: [String: String]?
    var process: ChildProcess?
    var startedAt: String?
    var restartCount: Int = 0
    var ready = false
    var lastExit: ContainerState.Terminated?
    var nextStart: ContinuousClock.Instant?
    var lastProbe: ContinuousClock.Instant?
    var waitingReason: String?
    var waitingMessage: String?
    var finished = false
    var stopRequestedAt: ContinuousClock.Instant?
    /// The preStop hook while it runs (the drain); SIGTERM waits for it, within the grace period.
    var preStop: ChildProcess?
    /// When SIGTERM was sent.
    var terminatedAt: ContinuousClock.Instant?
    var killed = false
    /// The environment the main process started with, for the preStop hook.
    var environment: [String: String] = [:]
    /// What was last written to the API server, to skip writes that change nothing.
    var lastReported: PodStatus?
}
