import Testing

@testable import StarlingAPI

/// Builds ModelService manifests for validation tests.
struct ModelServiceManifest {
    var spec: [String: JSONValue] = [
        "model": "m",
        "server": .object(["engine": "command", "command": .array(["python3", "-m", "http.server"])]),
    ]
    var name = "svc"

    func with(_ path: String, _ value: JSONValue) -> ModelServiceManifest {
        var copy = self
        var root = JSONValue.object(copy.spec)
        root = root.setting(path.split(separator: ".").map(String.init), value)
        copy.spec = root.objectValue!
        return copy
    }

    var value: JSONValue {
        .object([
            "apiVersion": "starling.dev/v1alpha1", "kind": "ModelService",
            "metadata": .object(["name": .string(name)]), "spec": .object(spec),
        ])
    }

    func errors() -> [String] {
        do {
            _ = try ObjectDecoding.decode(value, as: ModelService.self)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

    func setting(_ path: [String], _ value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var object = objectValue ?? [:]
        object[first] = (object[first] ?? .object([:])).setting(Array(path.dropFirst()), value)
        return .object(object)
    }
}

@Suite struct ModelServiceValidationTests {
    @Test func minimalServiceIsValid() {
        #expect(ModelServiceManifest().errors() == [])
    }

    @Test(arguments: [
        ("group.size", JSONValue.int(0), "spec.group.size: Invalid value: 0: must be >= 1"),
        ("replicas", .int(-1), "spec.replicas: Invalid value: -1: must be >= 0"),
        ("model", .string(""), "spec.model: Required value"),
        (
            "group.restartPolicy", .string("Sometimes"),
            "spec.group.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"RecreateGroupOnPodRestart\", "
                + "\"RecreateGroupAfterStart\", \"None\""
        ),
        (
            "group.startupPolicy", .string("Eager"),
            "spec.group.startupPolicy: Unsupported value: \"Eager\": supported values: \"LeaderCreated\", \"LeaderReady\""
        ),
        ("server.port", .int(70000), "spec.server.port: Invalid value: 70000: must be between 1 and 65535, inclusive"),
        ("server.engine", .string("image"), "spec.server.image: Required value: engine \"image\" needs an image"),
        (
            "server.readinessPath", .string("health"),
            "spec.server.readinessPath: Invalid value: \"health\": must start with '/'"
        ),
        ("accelerators.count", .int(-2), "spec.accelerators.count: Invalid value: -2: must be between 0 and 32"),
        (
            "server.engine", .string("docker"),
            "spec.server.engine: Unsupported value: \"docker\": supported values: \"sim\", \"command\", \"image\""
        ),
        ("group.size", .string("two"), "spec.group.size: Invalid value: expected integer"),
        ("colour", .string("blue"), "spec.colour: unknown field"),
        ("rollout.maxSurge", .int(-1), "spec.rollout.maxSurge: Invalid value: -1: must be >= 0"),
        (
            "rollout.maxSurge", .string("half"),
            "spec.rollout.maxSurge: Invalid value: \"half\": must be an integer or a percentage such as \"25%\""
        ),
        (
            "rollout.maxUnavailable", .string("150%"),
            "spec.rollout.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"
        ),
        (
            "rollout.maxUnavailable", .int(0),
            "spec.rollout.maxUnavailable: Invalid value: 0: may not be 0 when maxSurge is 0 (the rollout could never "
                + "replace a group)"
        ),
        ("rollout.partition", .int(-1), "spec.rollout.partition: Invalid value: -1: must be >= 0"),
        (
            "group.exclusiveTopology", .string("a/b/c"),
            "spec.group.exclusiveTopology: Invalid value: \"a/b/c\": a qualified name must consist of an optional DNS "
                + "subdomain prefix and '/', then a name part"
        ),
    ])
    func invalidFieldsAreNamed(path: String, value: JSONValue, expected: String) {
        let errors = ModelServiceManifest().with(path, value).errors()
        #expect(errors.contains(expected), "got \(errors)")
    }

    @Test(arguments: [
        ("adapters", JSONValue.array([.object(["name": "a"])]), "spec.adapters: not supported yet"),
        ("routing.affinity", .string("prefix"), "spec.routing.affinity: not supported yet"),
    ])
    func laterFeaturesAreRejectedNotIgnored(path: String, value: JSONValue, prefix: String) {
        let errors = ModelServiceManifest().with(path, value).errors()
        #expect(errors.contains { $0.hasPrefix(prefix) }, "got \(errors)")
    }

    @Test(arguments: [
        (
            JSONValue.object(["type": "H100-80GB", "partition": "5g.50gb"]),
            "spec.accelerators.partition: Unsupported value: \"5g.50gb\": supported values: \"1g.10gb\""
        ),
        (
            .object(["type": "L40S-48GB", "partition": "3g.40gb"]),
            "spec.accelerators.partition: Invalid value: \"3g.40gb\": L40S-48GB has no MIG profiles"
        ),
        (
            .object(["type": "H100-80GB", "selector": "device.index > 1 +"]),
            "spec.accelerators.selector: Invalid value"
        ),
        (
            .object(["type": "H100-80GB", "firstAvailable": .array([.object(["type": "A100-80GB"])])]),
            "spec.accelerators.firstAvailable: Invalid value: give the alternatives in firstAvailable"
        ),
        (
            .object(["firstAvailable": .array([.object(["count": 2])])]),
            "spec.accelerators.firstAvailable[0]: Required value: a type or a partition"
        ),
        (.object(["firstAvailable": .array([])]), "spec.accelerators.firstAvailable: Required value"),
        (
            .object(["firstAvailable": .array([.object(["partition": "3g.40gb", "count": 40])])]),
            "spec.accelerators.firstAvailable[0].count: Invalid value: 40: must be between 0 and 32"
        ),
    ])
    func badAcceleratorsAreNamed(accelerators: JSONValue, expected: String) {
        let errors = ModelServiceManifest().with("accelerators", accelerators).errors()
        #expect(errors.contains { $0.hasPrefix(expected) }, "got \(errors)")
    }

    @Test(arguments: [
        JSONValue.object(["type": "H100-80GB", "partition": "3g.40gb"]), .object(["partition": "1g.10gb", "count": 2]),
        .object([
            "firstAvailable": .array([
                .object(["type": "H100-80GB", "count": 2]), .object(["type": "A100-80GB", "count": 4]),
                .object(["type": "H100-80GB", "partition": "7g.80gb"]),
            ]),
            "selector": #"device.attributes["gpu.starling.dev"].index < 4"#,
        ]),
    ])
    func acceleratorChoicesAreAccepted(accelerators: JSONValue) {
        #expect(ModelServiceManifest().with("accelerators", accelerators).errors() == [])
    }

    @Test func simEngineNeedsAKnownProfileAndNoCommand() {
        let sim = ModelServiceManifest().with("server.engine", .string("sim"))
        let missing = sim.errors()
        #expect(missing.contains { $0.hasPrefix("spec.server.profile: Required value") }, "got \(missing)")
        #expect(missing.contains { $0.hasPrefix("spec.server.command: must not be set") }, "got \(missing)")
        let unknown = sim.with("server.profile", .string("llama-9b")).errors()
        #expect(
            unknown.contains { $0.hasPrefix("spec.server.profile: Unsupported value: \"llama-9b\"") }, "got \(unknown)")
        let good = sim.with("server.profile", .string("tiny")).with("server.command", .null)
            .with("adapters", .array([.object(["name": "sql"])])).errors()
        #expect(good.isEmpty, "got \(good)")
    }

    @Test(arguments: [
        ("rollout.maxUnavailable", JSONValue.int(1)), ("rollout.maxUnavailable", .string("25%")),
        ("rollout.maxSurge", .int(2)), ("rollout.maxSurge", .string("100%")), ("rollout.partition", .int(3)),
        ("group.restartPolicy", .string("RecreateGroupAfterStart")), ("routing.criticality", .string("Standard")),
        ("routing.criticality", .string("Critical")), ("routing.criticality", .string("Sheddable")),
        ("group.restartPolicy", .string("None")), ("group.startupPolicy", .string("LeaderReady")),
        ("priority", .int(10)), ("group.exclusiveTopology", .string("topology.starling.dev/rack")),
    ])
    func honouredValuesAreAccepted(path: String, value: JSONValue) {
        #expect(ModelServiceManifest().with(path, value).errors() == [])
    }

    static func autoscaling(_ members: [String: JSONValue]) -> ModelServiceManifest {
        var base: [String: JSONValue] = ["maxReplicas": 4, "metric": "queue", "target": 3]
        base.merge(members) { _, new in new }
        return ModelServiceManifest().with("autoscaling", .object(base))
    }

    @Test(arguments: [
        (
            ["minReplicas": JSONValue.int(5)],
            "spec.autoscaling.minReplicas: Invalid value: 5: must be <= spec.autoscaling.maxReplicas (4)"
        ),
        (["minReplicas": -1], "spec.autoscaling.minReplicas: Invalid value: -1: must be >= 0"),
        (["maxReplicas": 0], "spec.autoscaling.maxReplicas: Invalid value: 0: must be >= 1"),
        (["target": -2], "spec.autoscaling.target: Invalid value: -2.0: must be a positive number"),
        (
            ["metric": "kvCache", "target": 80],
            "spec.autoscaling.target: Invalid value: 80.0: KV-cache usage is a fraction, at most 1"
        ),
        (
            ["metric": "latency"],
            "spec.autoscaling.metric: Unsupported value: \"latency\": supported values: \"queue\", \"kvCache\", \"concurrency\""
        ),
        (
            ["scaleDown": .object(["stabilizationWindowSeconds": 7200])],
            "spec.autoscaling.scaleDown.stabilizationWindowSeconds: Invalid value: 7200: must be 0 to 3600"
        ),
        (
            ["scaleUp": .object(["policies": .array([.object(["type": "Pods", "value": 4, "periodSeconds": 15])])])],
            "spec.autoscaling.scaleUp.policies[0].type: Unsupported value: \"Pods\": supported values: \"Replicas\", \"Percent\""
        ),
        (
            ["scaleUp": .object(["policies": .array([.object(["type": "Percent", "value": 0, "periodSeconds": 0])])])],
            "spec.autoscaling.scaleUp.policies[0].value: Invalid value: 0: must be >= 1"
        ),
        (["scaleToZeroAfterSeconds": -5], "spec.autoscaling.scaleToZeroAfterSeconds: Invalid value: -5: must be >= 0"),
        (["target": .null], "spec.autoscaling.target: Required value"),
    ])
    func badAutoscalingNamesTheField(members: [String: JSONValue], expected: String) {
        let errors = Self.autoscaling(members).errors()
        #expect(errors.contains(expected), "got \(errors)")
    }

    @Test func aPartitionWithAutoscalingIsAcceptedButBadHoldSettingsAreNot() {
        // LeaderWorkerSet allows both: the partition names indices, whatever the count the autoscaler sets.
        #expect(Self.autoscaling([:]).with("rollout.partition", .int(2)).errors() == [])
        #expect(
            ModelServiceManifest().with("rollout.maxUnavailable", .int(0)).with("rollout.maxSurge", .string("10%"))
                .errors() == [])
        let hold = ModelServiceManifest().with("routing.holdTimeoutSeconds", .int(0)).with(
            "routing.maxHeldRequests", .int(-1)
        )
        .errors()
        #expect(hold.contains("spec.routing.holdTimeoutSeconds: Invalid value: 0: must be >= 1"), "got \(hold)")
        #expect(hold.contains("spec.routing.maxHeldRequests: Invalid value: -1: must be >= 0"), "got \(hold)")
        let good = Self.autoscaling([
            "minReplicas": 0, "scaleToZeroAfterSeconds": 60,
            "scaleDown": .object([
                "stabilizationWindowSeconds": 30,
                "policies": .array([.object(["type": "Percent", "value": 50, "periodSeconds": 15])]),
            ]),
        ]).errors()
        #expect(good.isEmpty, "got \(good)")
    }

    @Test func commandEngineNeedsCommand() {
        let errors = ModelServiceManifest().with("server", .object(["engine": "command"])).errors()
        #expect(errors == ["spec.server.command: Required value: engine \"command\" needs a command"])
    }

    @Test func missingServerIsRequired() {
        var m = ModelServiceManifest()
        m.spec["server"] = nil
        #expect(m.errors() == ["spec.server: Required value"])
    }

    @Test func namesMustFitPodNames() {
        var m = ModelServiceManifest()
        m.name = String(repeating: "a", count: 53)
        #expect(m.errors().first?.hasPrefix("metadata.name: must be no more than 52 characters") == true)
        m.name = "Bad_Name"
        #expect(m.errors().first?.contains("lower case alphanumeric") == true)
    }

    @Test func everyErrorIsReportedAtOnce() {
        let errors = ModelServiceManifest().with("group.size", .int(0)).with("replicas", .int(-1)).errors()
        #expect(errors.count == 2)
    }
}
