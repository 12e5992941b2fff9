import Foundation
import Logging
import ServiceLifecycle
import StarlingAPI
import StarlingClient

/// The kubelet's part of a node's life that a cluster's control plane relies on: registers the agent's Node
/// objects (labels, capacity including the accelerators as an extended resource, Ready), renews each node's Lease
/// in `kube-node-lease` every 10 s (kube-controller-manager marks a node unreachable when it stops), and refreshes
/// the Ready condition's heartbeat every minute, as a kubelet with node leases does. Where the API server serves
/// DRA, the node's accelerators are published as ResourceSlices on registration.
public struct NodeRegistrar: Service {
    let client: KubeClient
    let nodes: [Node]
    let leaseDuration: Int
    let renewInterval: Duration
    let statusInterval: Duration
    let logger: Logger

    /// The namespace of node Leases.
    public static let leaseNamespace = "kube-node-lease"

    /// The requests registration makes.
    public static let apiAccess: [APIAccess] =
        APIAccess.on(Node.descriptor, "create", "patch") + APIAccess.on(Node.descriptor, subresource: "status", "patch")
        + APIAccess.on(Lease.descriptor, "get", "create", "update") + ResourceSlicePublisher.apiAccess

    /// Timing as the kubelet's defaults: a 40 s lease renewed every quarter of it, status every minute.
    public init(
        client: KubeClient, nodes: [Node], leaseDuration: Int = 40, renewInterval: Duration = .seconds(10),
        statusInterval: Duration = .seconds(60), logger: Logger = Logger(label: "starling.agent.nodes")
    ) {
        self.client = client
        self.nodes = nodes
        self.leaseDuration = leaseDuration
        self.renewInterval = renewInterval
        self.statusInterval = statusInterval
        self.logger = logger
    }

    public func run() async throws {
        var registered = Set<String>()
        var lastStatus: [String: ContinuousClock.Instant] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for node in nodes {
                let name = node.metadata.nameOrEmpty
                do {
                    if !registered.contains(name) {
                        try await register(node)
                        try await ResourceSlicePublisher(client: client, logger: logger).publish([node])
                        registered.insert(name)
                        lastStatus[name] = .now
                        logger.info("registered node", metadata: ["node": "\(name)"])
                    } else if lastStatus[name].map({ .now - $0 >= statusInterval }) ?? true {
                        try await patchStatus(node)
                        lastStatus[name] = .now
                    }
                    try await renewLease(name)
                } catch {
                    logger.warning("cannot report node", metadata: ["node": "\(name)", "error": "\(error)"])
                }
            }
            do { try await Task.sleep(for: renewInterval) } catch { break }
            if Task.isShuttingDownGracefully { break }
        }
    }

    /// Creates the Node, or takes over an existing one (labels merged, status rewritten).
    func register(_ node: Node) async throws {
        let name = node.metadata.nameOrEmpty
        do {
            _ = try await client.create(node)
        } catch let status as Status where status.isConflict {
            // Already registered (an earlier run): make its labels and status this run's.
            let labels = JSONValue.object((node.metadata.labels ?? [:]).mapValues { .string($0) })
            _ = try await client.patch(
                Node.self, name: name, patch: .object(["metadata": .object(["labels": labels])]))
        }
        try await patchStatus(node)
    }

    func patchStatus(_ node: Node) async throws {
        var status = node.status ?? NodeStatus()
        let now = Timestamp.now()
        status.conditions = (status.conditions ?? []).map { condition in
            var c = condition
            c.lastHeartbeatTime = now
            if c.lastTransitionTime == nil { c.lastTransitionTime = now }
            return c
        }
        _ = try await client.patch(
            Node.self, name: node.metadata.nameOrEmpty,
            patch: .object(["status": try JSONValue(encoding: status)]), subresource: "status")
    }

    func renewLease(_ name: String) async throws {
        let stamp = LeaderElection.microTime(Date())
        do {
            var lease = try await client.get(Lease.self, namespace: Self.leaseNamespace, name: name)
            lease.spec = lease.spec ?? LeaseSpec(holderIdentity: name, leaseDurationSeconds: leaseDuration)
            lease.spec?.holderIdentity = name
            lease.spec?.leaseDurationSeconds = leaseDuration
            lease.spec?.renewTime = stamp
            _ = try await client.update(lease)
        } catch let status as Status where status.isNotFound {
            _ = try await client.create(
                Lease(
                    metadata: ObjectMeta(name: name, namespace: Self.leaseNamespace),
                    spec: LeaseSpec(holderIdentity: name, leaseDurationSeconds: leaseDuration, renewTime: stamp)))
        }
    }
}
