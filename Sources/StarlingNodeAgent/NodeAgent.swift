import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import StarlingAPI
import StarlingClient

#if canImport(Glibc)
import Glibc
#endif

/// The embedded node agent: runs each pod bound to its nodes as a local process on its own loopback port,
/// probes readiness over HTTP, restarts exits with exponential backoff, stops pods that are being deleted
/// (SIGTERM, then SIGKILL after the grace period) and reports pod status.
public struct NodeAgent: Service {
    let client: KubeClient
    let configuration: NodeAgentConfiguration
    let informers: SharedInformers?
    let logger: Logger

    /// `informers`, when given, is the process's shared set, run by its owner; without it the agent runs its own.
    public init(
        client: KubeClient, configuration: NodeAgentConfiguration, informers: SharedInformers? = nil,
        logger: Logger = Logger(label: "starling.agent")
    ) {
        self.client = client
        self.informers = informers
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: configuration.logDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: configuration.runDirectory, withIntermediateDirectories: true)
        let containment = try PodContainment.make(
            mode: configuration.containment, runDirectory: configuration.runDirectory, logger: logger)
        let state = NodeAgentState(
            client: client, configuration: configuration, containment: containment, logger: logger)
        await state.endLeftovers()
        let watchdog = try await SpawnThread.shared.run { try containment.startWatchdog() }
        logger.info(
            "node agent started",
            metadata: [
                "containment.mode": "\(containment.kind)", "containment.watchdog_pid": "\(watchdog)",
                "agent.id": "\(containment.agentID)",
            ])
        let shared = informers ?? SharedInformers(client: client, logger: logger)
        let pods = await shared.informer(Pod.self)
        // The tick loop runs until cancelled; graceful shutdown cancels it, then every pod is stopped.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if informers == nil { group.addTask { await shared.run() } }
                group.addTask {
                    await pods.waitForSync()
                    while !Task.isCancelled {
                        let nodes = configuration.nodeNames
                        let mine = await pods.list().filter { $0.spec.nodeName.map(nodes.contains) ?? false }
                        await state.sync(mine)
                        do { try await Task.sleep(for: configuration.tick) } catch { break }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        await state.stopAll(grace: .seconds(5))
    }
}

/// The agent's state and per-pod decisions; one actor so that ticks never overlap.
actor NodeAgentState {
    let client: KubeClient
    let configuration: NodeAgentConfiguration
    let containment: PodContainment
    let logger: Logger
    var runtimes: [String: PodRuntime] = [:]

    init(client: KubeClient, configuration: NodeAgentConfiguration, containment: PodContainment, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.containment = containment
        self.logger = logger
    }

    var pidFileDirectory: String { configuration.runDirectory }

    /// Ends every process a crashed earlier run left behind: found by cgroup or environment tag, never by a saved
    /// pid, which may belong to another process by now. The saved process-group files are only removed.
    func endLeftovers() async {
        let found = await containment.endLeftovers()
        if found > 0 {
            logger.notice("ended processes left by an earlier run", metadata: ["containment.found": "\(found)"])
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: pidFileDirectory)) ?? []
        for file in files where file.hasSuffix(".pgid") {
            try? FileManager.default.removeItem(atPath: "\(pidFileDirectory)/\(file)")
        }
    }

    func sync(_ pods: [Pod]) async {
        let now = ContinuousClock.now
        var seen = Set<String>()
        var probes: [(String, String, String)] = []
        for pod in pods {
            guard let uid = pod.metadata.uid else { continue }
            seen.insert(uid)
            if pod.metadata.deletionTimestamp != nil {
                await terminate(pod, uid: uid, now: now)
                continue
            }
            if pod.isTerminal && runtimes[uid] == nil { continue }
            var rt = runtimes[uid] ?? newRuntime(for: pod, uid: uid)
            reap(&rt, pod: pod, now: now)
            if rt.process == nil && !rt.finished && (rt.nextStart.map { now >= $0 } ?? true) {
                await start(&rt, pod: pod, pods: pods, now: now)
            }
            if rt.process != nil, let path = readinessPath(pod) {
                let period = Duration.seconds(pod.spec.containers.first?.readinessProbe?.periodSeconds ?? 1)
                let interval = rt.ready ? period : min(period, .milliseconds(200))
                if rt.lastProbe.map({ now - $0 >= interval }) ?? true {
                    rt.lastProbe = now
                    probes.append((uid, "\(rt.podIP):\(rt.port)", path))
                }
            } else if rt.process != nil && readinessPath(pod) == nil {
                rt.ready = true
            }
            runtimes[uid] = rt
        }
        // Probe concurrently, bounded by a short timeout.
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for (uid, address, path) in probes {
                group.addTask { (uid, await Self.probe(address: address, path: path)) }
            }
            var out: [String: Bool] = [:]
            for await (uid, ok) in group { out[uid] = ok }
            return out
        }
        for (uid, ok) in results where runtimes[uid]?.process != nil { runtimes[uid]?.ready = ok }
        // Pods that vanished without a graceful stop (forced deletion): kill what is left.
        for (uid, rt) in runtimes where !seen.contains(uid) {
            signal(rt, SIGKILL)
            if let process = rt.process, process.poll() != nil { runtimes[uid]?.process = nil }
            if runtimes[uid]?.process == nil && containment.isEmpty(uid: uid) {
                containment.release(uid: uid)
                removePidFile(uid)
                runtimes[uid] = nil
            }
        }
        for pod in pods {
            guard let uid = pod.metadata.uid, pod.metadata.deletionTimestamp == nil, let rt = runtimes[uid] else {
                continue
            }
            await report(pod, rt)
        }
    }

    func newRuntime(for pod: Pod, uid: String) -> PodRuntime {
        let port = Self.declaredPort(pod)
        let used = Set(runtimes.values.map(\.podIP))
        // An address given by an earlier run of the agent is kept, so a restart does not move the pod.
        let kept = pod.status?.podIP.flatMap { PodAddress.isPodLoopback($0) && !used.contains($0) ? $0 : nil }
        let address = kept ?? PodAddress.pick(port: port, avoiding: used) ?? "127.0.0.1"
        return PodRuntime(
            namespace: pod.metadata.namespace ?? WellKnown.defaultNamespace, name: pod.metadata.nameOrEmpty, uid: uid,
            podIP: address, port: port, node: pod.spec.nodeName,
            restartCount: pod.status?.containerStatuses?.first?.restartCount ?? 0)
    }

    /// The port the pod serves (`Pod.servingPort`, as the gateway reads it), else the `PORT` its first container
    /// sets, else 8000.
    static func declaredPort(_ pod: Pod) -> Int {
        if let port = pod.servingPort { return port }
        let env = pod.spec.containers.first?.env
        return env?.first { $0.name == WellKnown.envPort }?.value.flatMap { Int($0) } ?? ServerSpec.defaultPort
    }

    func readinessPath(_ pod: Pod) -> String? {
        pod.spec.containers.first?.readinessProbe?.httpGet.map { $0.path ?? "/" }
    }

    /// Notices an exit and decides on a restart.
    func reap(_ rt: inout PodRuntime, pod: Pod, now: ContinuousClock.Instant) {
        guard let process = rt.process, let exit = process.poll() else { return }
        rt.process = nil
        rt.ready = false
        removePidFile(rt.uid)
        // As in a container, the pod ends with its main process: nothing it started outlives it. (Not by process
        // group: the main process is reaped, so its id may be reused.)
        containment.signal(uid: rt.uid, SIGKILL)
        let reason = exit.signal != 0 ? "Error" : (exit.code == 0 ? "Completed" : "Error")
        rt.lastExit = ContainerState.Terminated(
            exitCode: exit.signal != 0 ? 128 + exit.signal : exit.code, signal: exit.signal == 0 ? nil : exit.signal,
            reason: reason, finishedAt: Timestamp.now())
        rt.lastExit?.startedAt = rt.startedAt
        let policy = pod.spec.restartPolicy ?? "Always"
        let restart = policy == "Always" || (policy == "OnFailure" && (exit.code != 0 || exit.signal != 0))
        logger.info(
            "model server exited",
            metadata: [
                "pod": "\(rt.namespace)/\(rt.name)", "process.exit_code": "\(exit.code)",
                "process.signal": "\(exit.signal)",
                "restart": "\(restart)",
            ])
        if restart {
            scheduleRestart(&rt, now: now)
            rt.waitingReason = "CrashLoopBackOff"
            rt.waitingMessage = "back-off restarting failed container server"
        } else {
            rt.finished = true
        }
    }

    struct ClaimsNotReady: Error {
        var message: String
    }

    /// The devices a pod's claims were allocated, read from the claims (the scheduler writes them before binding).
    func claimedDevices(of pod: Pod) async -> Result<ClaimedDevices, ClaimsNotReady> {
        let namespace = pod.metadata.namespace ?? WellKnown.defaultNamespace
        var results: [DeviceRequestAllocationResult] = []
        for podClaim in pod.spec.resourceClaims ?? [] {
            let name = pod.resourceClaimName(for: podClaim)
            guard let name else { return .failure(ClaimsNotReady(message: "claim \(podClaim.name) is not made yet")) }
            do {
                let claim = try await client.get(ResourceClaim.self, namespace: namespace, name: name)
                guard let allocated = claim.status?.allocation?.devices?.results else {
                    return .failure(ClaimsNotReady(message: "claim \(name) is not allocated"))
                }
                results += allocated
            } catch {
                return .failure(ClaimsNotReady(message: "cannot read claim \(name): \(error)"))
            }
        }
        return .success(
            ClaimedDevices(results: results, inventory: configuration.inventories[pod.spec.nodeName ?? ""]))
    }

    func start(_ rt: inout PodRuntime, pod: Pod, pods: [Pod], now: ContinuousClock.Instant) async {
        guard let container = pod.spec.containers.first else { return }
        var env = ProcessInfo.processInfo.environment
        // The pod as its fields will read once reported, for the downward API.
        var placed = pod
        placed.status = placed.status ?? PodStatus()
        placed.status?.podIP = rt.podIP
        placed.status?.hostIP = "127.0.0.1"
        // As a container runtime does: the pod's identity first, then its own variables in order ($(NAME) sees
        // those before it), a field reference resolved from the pod.
        var podEnv: [String: String] = [
            WellKnown.envPort: String(rt.port), "POD_NAME": rt.name, "POD_NAMESPACE": rt.namespace, "POD_IP": rt.podIP,
        ]
        for e in container.env ?? [] {
            if let field = e.valueFrom?.fieldRef {
                podEnv[e.name] = field.value(in: placed) ?? ""
            } else {
                podEnv[e.name] = EnvExpansion.expand(e.value ?? "", podEnv)
            }
        }
        if rt.devices == nil, pod.spec.resourceClaims?.isEmpty == false {
            switch await claimedDevices(of: pod) {
            case .success(let claimed):
                rt.devices = claimed.wholeGPUs
                rt.claimEnvironment = claimed.environment(
                    realDevices: configuration.realDeviceNodes.contains(pod.spec.nodeName ?? ""))
            case .failure(let why):
                // As a kubelet whose DRA driver cannot prepare the claims yet; retried on the next tick.
                rt.waitingReason = "ContainerCreating"
                rt.waitingMessage = why.message
                return
            }
        }
        if rt.devices == nil {
            let node = pod.spec.nodeName ?? ""
            let taken = Set(
                runtimes.values.filter { $0.uid != rt.uid && $0.node == node && !$0.finished }.flatMap {
                    $0.devices ?? []
                })
            switch DeviceAssignment.choose(
                for: pod, capacity: configuration.deviceCounts[node] ?? 0, taken: taken)
            {
            case .success(let chosen): rt.devices = chosen
            case .failure(let shortage):
                // As a kubelet's device manager at admission; kept waiting, as the devices may free up.
                rt.waitingReason = "UnexpectedAdmissionError"
                rt.waitingMessage = "Allocate failed: the pod \(shortage)"
                return
            }
        }
        if let claimEnvironment = rt.claimEnvironment {
            podEnv.merge(claimEnvironment) { _, claimed in claimed }
        } else {
            let devices = (rt.devices ?? []).map(String.init).joined(separator: ",")
            podEnv["STARLING_DEVICES"] = devices
            if let node = pod.spec.nodeName, configuration.realDeviceNodes.contains(node) {
                podEnv["CUDA_VISIBLE_DEVICES"] = devices
            }
        }
        if podEnv[WellKnown.envLeaderAddress] != nil {
            // There is no cluster DNS for local processes: the leader's DNS name becomes its address.
            let leaderName = pod.metadata.annotations?["starling.dev/leader"] ?? rt.name
            let leader = pods.first {
                $0.metadata.name == leaderName && $0.metadata.namespace == pod.metadata.namespace
            }
            let leaderAddress: (String, Int)?
            if leaderName == rt.name {
                leaderAddress = (rt.podIP, rt.port)
            } else if let leader, let runtime = leader.metadata.uid.flatMap({ runtimes[$0] }) {
                leaderAddress = (runtime.podIP, runtime.port)
            } else if let leader, let ip = leader.status?.podIP {
                leaderAddress = (ip, Self.declaredPort(leader))
            } else {
                leaderAddress = nil
            }
            if let (ip, port) = leaderAddress {
                podEnv[WellKnown.envLeaderAddress] = "\(ip):\(port)"
                if podEnv["LWS_LEADER_ADDRESS"] != nil { podEnv["LWS_LEADER_ADDRESS"] = ip }
            } else {
                rt.waitingReason = "WaitingForLeader"
                rt.waitingMessage = "waiting for leader pod \(leaderName) to be placed on this machine"
                return
            }
        }
        for (k, v) in podEnv { env[k] = v }
        for (k, v) in containment.environment(uid: rt.uid) { env[k] = v }
        var expanded = ((container.command ?? []) + (container.args ?? [])).map { EnvExpansion.expand($0, podEnv) }
        if expanded.first == WellKnown.starlingExecutable, let own = Self.ownExecutable {
            expanded[0] = own
        }
        let command = expanded
        let logPath = NodeAgentConfiguration.logPath(
            directory: configuration.logDirectory, namespace: rt.namespace, pod: rt.name)
        let note =
            "--- starling: starting \(rt.namespace)/\(rt.name) (restart \(rt.restartCount)) on \(rt.podIP):\(rt.port) at \(Timestamp.now())\n"
        if let handle = FileHandle(forWritingAtPath: logPath)
            ?? (FileManager.default.createFile(atPath: logPath, contents: nil)
                ? FileHandle(forWritingAtPath: logPath) : nil)
        {
            handle.seekToEndOfFile()
            handle.write(Data(note.utf8))
            try? handle.close()
        }
        rt.startedAt = Timestamp.now()
        rt.ready = false
        rt.lastProbe = nil
        do {
            let workingDirectory = container.workingDir
            let env = env
            let cgroupProcs = try containment.prepare(uid: rt.uid)
            defer { if cgroupProcs >= 0 { close(cgroupProcs) } }
            let process = try await SpawnThread.shared.run {
                try ChildProcess.start(
                    command: command, environment: env, logPath: logPath, workingDirectory: workingDirectory,
                    cgroupProcs: cgroupProcs)
            }
            rt.process = process
            rt.environment = env
            rt.waitingReason = nil
            rt.waitingMessage = nil
            writePidFile(rt.uid, process.pid)
            logger.info(
                "started model server",
                metadata: [
                    "pod": "\(rt.namespace)/\(rt.name)", "process.pid": "\(process.pid)",
                    "pod.address": "\(rt.podIP):\(rt.port)",
                ])
        } catch {
            logger.warning(
                "cannot start model server", metadata: ["pod": "\(rt.namespace)/\(rt.name)", "error": "\(error)"])
            rt.lastExit = ContainerState.Terminated(exitCode: 127, reason: "StartError", finishedAt: Timestamp.now())
            rt.lastExit?.message = "\(error)"
            rt.waitingReason = "RunContainerError"
            rt.waitingMessage = "\(error)"
            scheduleRestart(&rt, now: now)
        }
    }

    /// Counts a restart and sets when it may happen: the delay doubles per restart up to the maximum.
    func scheduleRestart(_ rt: inout PodRuntime, now: ContinuousClock.Instant) {
        rt.restartCount += 1
        let factor = Double(1 << min(rt.restartCount - 1, 16))
        rt.nextStart = now + min(configuration.restartBackoff * factor, configuration.maxRestartBackoff)
    }

    /// Sends `sig` to everything the pod runs: its main process's group while that process is unreaped (the group id
    /// is its pid, which is not reused until then) and every process its containment finds.
    func signal(_ rt: PodRuntime, _ sig: Int32) {
        rt.process?.signalGroup(sig)
        containment.signal(uid: rt.uid, sig)
    }

    /// Stops a pod that is being deleted, as a kubelet does: its preStop hook first (the drain), then SIGTERM to every
    /// process it started, SIGKILL to what is left after the grace period (2 s more when the hook took all of it);
    /// once none is left, confirms the deletion to the API server.
    func terminate(_ pod: Pod, uid: String, now: ContinuousClock.Instant) async {
        if var rt = runtimes[uid] {
            let grace = Duration.seconds(pod.metadata.deletionGracePeriodSeconds ?? 30)
            // Reaped once only: a pid polled again after that may be another child's by now.
            if let process = rt.process, process.poll() != nil { rt.process = nil }
            let mainRunning = rt.process != nil
            if mainRunning || !containment.isEmpty(uid: uid) || rt.preStop != nil {
                if rt.stopRequestedAt == nil {
                    rt.stopRequestedAt = now
                    rt.ready = false
                    if mainRunning, let hook = pod.spec.containers.first?.lifecycle?.preStop?.exec?.command,
                        !hook.isEmpty
                    {
                        rt.preStop = await startPreStop(hook, rt)
                    }
                }
                let elapsed = now - rt.stopRequestedAt!
                if let hook = rt.preStop {
                    let done = hook.poll() != nil
                    if done || elapsed >= grace || !mainRunning {
                        if !done { hook.signalGroup(SIGKILL) }
                        rt.preStop = nil
                        if !done { _ = hook.poll() }
                    }
                }
                if rt.preStop == nil && rt.terminatedAt == nil {
                    rt.terminatedAt = now
                    signal(rt, SIGTERM)
                } else if let terminatedAt = rt.terminatedAt, !rt.killed {
                    if !mainRunning || (elapsed >= grace && now - terminatedAt >= .seconds(2)) {
                        // Out of time, or the main process has stopped: nothing the pod started may linger.
                        signal(rt, SIGKILL)
                        rt.killed = true
                    }
                }
                runtimes[uid] = rt
                return
            }
        }
        containment.release(uid: uid)
        removePidFile(uid)
        runtimes[uid] = nil
        do {
            try await client.delete(
                Pod.self, namespace: pod.metadata.namespace, name: pod.metadata.nameOrEmpty,
                options: DeleteOptions(gracePeriodSeconds: 0))
        } catch let status as Status where status.isNotFound {
        } catch {
            logger.debug(
                "cannot confirm pod deletion", metadata: ["pod": "\(pod.metadata.nameOrEmpty)", "error": "\(error)"])
        }
    }

    /// Starts a pod's preStop command in its environment and containment, its output in the pod's log; nil when it
    /// cannot start (the stop goes on, as a kubelet's does after a failed hook).
    func startPreStop(_ hook: [String], _ rt: PodRuntime) async -> ChildProcess? {
        var resolved = hook
        if resolved.first == WellKnown.starlingExecutable, let own = Self.ownExecutable { resolved[0] = own }
        let command = resolved
        let logPath = NodeAgentConfiguration.logPath(
            directory: configuration.logDirectory, namespace: rt.namespace, pod: rt.name)
        let env = rt.environment
        do {
            let cgroupProcs = try containment.prepare(uid: rt.uid)
            defer { if cgroupProcs >= 0 { close(cgroupProcs) } }
            let process = try await SpawnThread.shared.run {
                try ChildProcess.start(command: command, environment: env, logPath: logPath, cgroupProcs: cgroupProcs)
            }
            logger.info(
                "running the preStop hook", metadata: ["pod": "\(rt.namespace)/\(rt.name)", "hook": "\(hook)"])
            return process
        } catch {
            logger.warning(
                "preStop hook failed to start; stopping at once",
                metadata: ["pod": "\(rt.namespace)/\(rt.name)", "error": "\(error)"])
            return nil
        }
    }

    func report(_ pod: Pod, _ rt: PodRuntime) async {
        var status = pod.status ?? PodStatus()
        let running = rt.process != nil
        if rt.finished {
            status.phase = (rt.lastExit?.exitCode ?? 0) == 0 ? .succeeded : .failed
        } else {
            status.phase = running || rt.restartCount > 0 ? .running : .pending
        }
        status.podIP = rt.podIP
        status.podIPs = [PodIP(ip: rt.podIP)]
        status.hostIP = "127.0.0.1"
        status.ports = nil
        status.startTime = status.startTime ?? rt.startedAt
        var cs = ContainerStatus(
            name: pod.spec.containers.first?.name ?? "server", ready: running && rt.ready, restartCount: rt.restartCount
        )
        cs.started = running
        if running {
            cs.state = ContainerState(running: .init(startedAt: rt.startedAt))
        } else if rt.finished, let exit = rt.lastExit {
            cs.state = ContainerState(terminated: exit)
        } else {
            cs.state = ContainerState(
                waiting: .init(reason: rt.waitingReason ?? "ContainerCreating", message: rt.waitingMessage))
        }
        if let exit = rt.lastExit, !rt.finished { cs.lastState = ContainerState(terminated: exit) }
        status.containerStatuses = [cs]
        var conditions = status.conditions ?? []
        let now = Timestamp.now()
        let ready = running && rt.ready
        conditions.set(Condition(type: "Initialized", status: "True"), now: now)
        conditions.set(Condition(type: "ContainersReady", status: ready ? "True" : "False"), now: now)
        conditions.set(
            Condition(type: "Ready", status: ready ? "True" : "False", reason: ready ? nil : "ContainersNotReady"),
            now: now)
        status.conditions = conditions
        if status == pod.status || status == runtimes[rt.uid]?.lastReported { return }
        do {
            let patch: JSONValue = .object(["status": try JSONValue(encoding: status)])
            _ = try await client.patch(
                Pod.self, namespace: pod.metadata.namespace, name: pod.metadata.nameOrEmpty, patch: patch,
                subresource: "status")
            runtimes[rt.uid]?.lastReported = status
        } catch {
            logger.debug(
                "cannot report pod status", metadata: ["pod": "\(pod.metadata.nameOrEmpty)", "error": "\(error)"])
        }
    }

    static func probe(address: String, path: String) async -> Bool {
        var request = HTTPClientRequest(url: "http://\(address)\(path)")
        request.method = .GET
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(1))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return (200..<400).contains(Int(response.status.code))
        } catch {
            return false
        }
    }

    /// Stops every pod (on shutdown): SIGTERM to all their processes, SIGKILL to what is left after `grace`.
    func stopAll(grace: Duration) async {
        let uids = Array(runtimes.keys)
        let processes = runtimes.values.compactMap(\.process)
        for rt in runtimes.values { signal(rt, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        var remaining = processes
        while !remaining.isEmpty && ContinuousClock.now < deadline {
            remaining = remaining.filter { $0.poll() == nil }
            if !remaining.isEmpty { try? await Task.sleep(for: .milliseconds(50)) }
        }
        // Not `signal`: the processes reaped above may have had their ids reused by now.
        for p in remaining { p.signalGroup(SIGKILL) }
        for uid in uids { containment.signal(uid: uid, SIGKILL) }
        let reapBy = ContinuousClock.now + .seconds(2)
        while !remaining.isEmpty && ContinuousClock.now < reapBy {
            remaining = remaining.filter { $0.poll() == nil }
            if !remaining.isEmpty { try? await Task.sleep(for: .milliseconds(10)) }
        }
        let emptyBy = ContinuousClock.now + .seconds(2)
        for uid in uids {
            while !containment.isEmpty(uid: uid) && ContinuousClock.now < emptyBy {
                try? await Task.sleep(for: .milliseconds(20))
            }
            containment.release(uid: uid)
            removePidFile(uid)
        }
        runtimes.removeAll()
        containment.removeRoot()
    }

    func writePidFile(_ uid: String, _ pid: Int32) {
        try? "\(pid)\n".write(toFile: "\(pidFileDirectory)/\(uid).pgid", atomically: true, encoding: .utf8)
    }

    func removePidFile(_ uid: String) {
        try? FileManager.default.removeItem(atPath: "\(pidFileDirectory)/\(uid).pgid")
    }
}

extension NodeAgentState {
    /// The running `starling` binary, which pods of engine `sim` run as `starling model-server`.
    static let ownExecutable: String? = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first.map { URL(fileURLWithPath: $0).path } }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Test runners are not `starling`; only map when the agent runs inside the starling executable.
        return URL(fileURLWithPath: path).lastPathComponent == WellKnown.starlingExecutable ? path : nil
    }()
}
