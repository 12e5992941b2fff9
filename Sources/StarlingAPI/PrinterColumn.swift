/// A column `kubectl get` and `starling get` print for a kind, as a CustomResourceDefinition's
/// `additionalPrinterColumns` declares it.
public struct PrinterColumn: Sendable, Equatable {
    /// The column header.
    public var name: String
    /// `string`, `integer`, `number`, `boolean` or `date`.
    public var type: String
    /// A JSONPath into the object (`.spec.model`).
    public var jsonPath: String
    /// What the column shows.
    public var description: String
    /// 0 for the default view, 1 for `-o wide` only.
    public var priority: Int

    public init(_ name: String, _ type: String, _ jsonPath: String, _ description: String, priority: Int = 0) {
        self.name = name
        self.type = type
        self.jsonPath = jsonPath
        self.description = description
        self.priority = priority
    }

    /// The column as a CRD declares it.
    public var definition: JSONValue {
        var column: [String: JSONValue] = [
            "name": .string(name), "type": .string(type), "jsonPath": .string(jsonPath),
            "description": .string(description),
        ]
        if priority != 0 { column["priority"] = .int(Int64(priority)) }
        return .object(column)
    }
}

extension ModelService {
    /// The columns of `kubectl get modelservices`: what `starling get` prints, in JSONPath's reach.
    public static let printerColumns: [PrinterColumn] = [
        PrinterColumn("Model", "string", ".spec.model", "The model name clients send."),
        PrinterColumn("Replicas", "integer", ".spec.replicas", "Desired replicas (groups)."),
        PrinterColumn("Ready", "integer", ".status.readyReplicas", "Groups whose every pod is Ready."),
        PrinterColumn("Up-to-date", "integer", ".status.updatedReplicas", "Groups at the update revision."),
        PrinterColumn(
            "Available", "string", ".status.conditions[?(@.type==\"Available\")].status",
            "Whether enough groups are Ready to serve."),
        PrinterColumn("Age", "date", ".metadata.creationTimestamp", "Time since the object was created."),
        PrinterColumn("Group-size", "integer", ".spec.group.size", "Hosts per replica.", priority: 1),
        PrinterColumn("Accelerator", "string", ".spec.accelerators.type", "Accelerator type per host.", priority: 1),
        PrinterColumn(
            "Updated-ready", "integer", ".status.updatedReadyReplicas", "Groups at the update revision and Ready.",
            priority: 1),
        PrinterColumn("Revision", "string", ".status.updateRevision", "Hash of the spec's template.", priority: 1),
        PrinterColumn(
            "Current", "string", ".status.currentRevision", "Hash of the template groups below the partition keep.",
            priority: 1),
    ]
}
