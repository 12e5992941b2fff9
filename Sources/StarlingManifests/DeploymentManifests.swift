import StarlingAPI

/// The Deployments that run Starling's components, hardened as a demanding cluster admin expects: non-root,
/// read-only root file system, no privilege escalation or capabilities, resource requests and a memory limit,
/// liveness and readiness probes.
enum DeploymentManifests {
    /// The port of `/healthz` and `/readyz`.
    static let probePort = 8081

    /// The operator: `replicas` copies behind leader election, spread over nodes where the cluster allows.
    static func `operator`(_ options: ClusterManifests.Options, serviceAccount: String) -> JSONValue {
        let labels: [String: JSONValue] = [
            "app.kubernetes.io/name": .string("starling"), "app.kubernetes.io/component": .string("operator"),
        ]
        let container: JSONValue = .object([
            "name": .string("operator"),
            "image": .string(options.image),
            "args": .array(["operator", "--health-port", String(probePort)].map { .string($0) }),
            "ports": .array([
                .object(["name": .string("probes"), "containerPort": .int(Int64(probePort))])
            ]),
            "livenessProbe": probe("/healthz", initialDelay: 5, period: 10),
            "readinessProbe": probe("/readyz", initialDelay: 1, period: 5),
            "resources": .object([
                "requests": .object(["cpu": .string("100m"), "memory": .string("128Mi")]),
                // About 34 KiB per cached pod (BENCHMARKS.md): 10,000 pods take 385 MiB.
                "limits": .object(["memory": .string("1Gi")]),
            ]),
            "securityContext": hardenedContainer,
        ])
        return .object([
            "apiVersion": .string("apps/v1"), "kind": .string("Deployment"),
            "metadata": RBACManifests.metadata(
                "starling-operator", namespace: options.namespace, component: "operator"),
            "spec": .object([
                "replicas": .int(Int64(options.operatorReplicas)),
                "selector": .object(["matchLabels": .object(labels)]),
                "template": .object([
                    "metadata": .object(["labels": .object(labels)]),
                    "spec": .object([
                        "serviceAccountName": .string(serviceAccount),
                        // Leader election hands over within a lease (15 s); a shorter grace would cut a release.
                        "terminationGracePeriodSeconds": .int(30),
                        "securityContext": hardenedPod,
                        "affinity": .object([
                            "podAntiAffinity": .object([
                                "preferredDuringSchedulingIgnoredDuringExecution": .array([
                                    .object([
                                        "weight": .int(100),
                                        "podAffinityTerm": .object([
                                            "labelSelector": .object(["matchLabels": .object(labels)]),
                                            "topologyKey": .string("kubernetes.io/hostname"),
                                        ]),
                                    ])
                                ])
                            ])
                        ]),
                        "containers": .array([container]),
                    ]),
                ]),
            ]),
        ])
    }

    /// The gateway: `replicas` stateless copies discovering pools from the cluster, behind a Service.
    static func gateway(_ options: ClusterManifests.Options, serviceAccount: String) -> [JSONValue] {
        let labels: [String: JSONValue] = [
            "app.kubernetes.io/name": .string("starling"), "app.kubernetes.io/component": .string("gateway"),
        ]
        let container: JSONValue = .object([
            "name": .string("gateway"),
            "image": .string(options.image),
            "args": .array(["gateway", "--from-cluster", "--host", "0.0.0.0", "--port", "8080"].map { .string($0) }),
            "ports": .array([.object(["name": .string("http"), "containerPort": .int(8080)])]),
            "livenessProbe": probe("/health", port: "http", initialDelay: 5, period: 10),
            "readinessProbe": probe("/health", port: "http", initialDelay: 1, period: 5),
            "resources": .object([
                "requests": .object(["cpu": .string("500m"), "memory": .string("256Mi")]),
                "limits": .object(["memory": .string("2Gi")]),
            ]),
            "securityContext": hardenedContainer,
        ])
        let deployment: JSONValue = .object([
            "apiVersion": .string("apps/v1"), "kind": .string("Deployment"),
            "metadata": RBACManifests.metadata("starling-gateway", namespace: options.namespace, component: "gateway"),
            "spec": .object([
                "replicas": .int(Int64(options.gatewayReplicas)),
                "selector": .object(["matchLabels": .object(labels)]),
                "template": .object([
                    "metadata": .object(["labels": .object(labels)]),
                    "spec": .object([
                        "serviceAccountName": .string(serviceAccount),
                        // Streams in flight finish within the grace period after the endpoint leaves the Service.
                        "terminationGracePeriodSeconds": .int(60),
                        "securityContext": hardenedPod,
                        "containers": .array([container]),
                    ]),
                ]),
            ]),
        ])
        let service: JSONValue = .object([
            "apiVersion": .string("v1"), "kind": .string("Service"),
            "metadata": RBACManifests.metadata("starling-gateway", namespace: options.namespace, component: "gateway"),
            "spec": .object([
                "selector": .object(labels),
                "ports": .array([
                    .object([
                        "name": .string("http"), "port": .int(80), "targetPort": .string("http"),
                        "protocol": .string("TCP"),
                    ])
                ]),
            ]),
        ])
        return [deployment, service]
    }

    static let hardenedContainer: JSONValue = .object([
        "allowPrivilegeEscalation": .bool(false), "readOnlyRootFilesystem": .bool(true),
        "capabilities": .object(["drop": .array([.string("ALL")])]),
    ])

    static let hardenedPod: JSONValue = .object([
        "runAsNonRoot": .bool(true), "runAsUser": .int(65532), "runAsGroup": .int(65532),
        "seccompProfile": .object(["type": .string("RuntimeDefault")]),
    ])

    static func probe(_ path: String, port: String = "probes", initialDelay: Int, period: Int) -> JSONValue {
        .object([
            "httpGet": .object(["path": .string(path), "port": .string(port)]),
            "initialDelaySeconds": .int(Int64(initialDelay)), "periodSeconds": .int(Int64(period)),
        ])
    }
}
