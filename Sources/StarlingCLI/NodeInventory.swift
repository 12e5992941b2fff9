import Foundation
import StarlingAPI

/// The nodes `starling up` registers: from a file, from `nvidia-smi`, or one simulated 8 x H100-80GB node.
///
/// The file holds Node manifests, or a compact inventory:
/// ```yaml
/// nodes:
///   - name: gpu-a          # one node
///     accelerator: H100-80GB
///     devices: 8
///     labels: {topology.starling.dev/rack: rack-a}
///   - namePrefix: gpu-     # several nodes gpu-0, gpu-1, ... spread over racks
///     count: 4
///     racks: 2
///     accelerator: H100-80GB
///     devices: 8
///     mig: 2               # the first 2 GPUs of each node in MIG mode (`true`: all of them)
/// ```
public enum NodeInventory {
    public struct InventoryError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The default inventory: one simulated node with 8 H100-80GB devices.
    public static func simulatedDefault() -> [Node] {
        [makeNode(name: "node-0", accelerator: "H100-80GB", devices: 8, labels: [WellKnown.rackLabel: "rack-0"])]
    }

    public static func makeNode(
        name: String, accelerator: String?, devices: Int, labels: [String: String] = [:], real: Bool = false,
        mig: [Int] = [], uuids: [String] = [], migInstances: [Int: [GPUInventory.MIGInstance]]? = nil
    )
        -> Node
    {
        var allLabels = labels
        allLabels["kubernetes.io/hostname"] = name
        if let accelerator { allLabels[WellKnown.acceleratorTypeLabel] = accelerator }
        var meta = ObjectMeta(name: name, labels: allLabels)
        var annotations: [String: String] = [:]
        if real { annotations[WellKnown.realDevicesAnnotation] = "true" }
        if !mig.isEmpty { annotations[WellKnown.migDevicesAnnotation] = mig.map(String.init).joined(separator: ",") }
        if !uuids.isEmpty { annotations[WellKnown.gpuUUIDsAnnotation] = uuids.joined(separator: ",") }
        if let migInstances {
            annotations[WellKnown.migInstancesAnnotation] = migInstances.keys.sorted().flatMap { gpu in
                (migInstances[gpu] ?? []).map { $0.annotationEntry(gpu: gpu) }
            }.joined(separator: ",")
        }
        if !annotations.isEmpty { meta.annotations = annotations }
        let resources = [WellKnown.acceleratorResource: String(devices)]
        return Node(
            metadata: meta, spec: NodeSpec(),
            status: NodeStatus(
                capacity: resources, allocatable: resources,
                conditions: [
                    NodeCondition(
                        type: "Ready", status: "True", reason: "StarlingAgentReady",
                        message: "embedded node agent is running")
                ],
                addresses: [NodeAddress(type: "InternalIP", address: "127.0.0.1")]))
    }

    /// Parses an inventory file (compact form or Node manifests).
    public static func load(path: String) throws -> [Node] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InventoryError(description: "cannot read nodes file \(path)")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) throws -> [Node] {
        let docs = try ManifestDecoder.documents(from: text, source: source)
        var nodes: [Node] = []
        for doc in docs {
            if doc.kind != nil {
                let type = try ManifestDecoder.resourceType(of: doc)
                guard type == Node.self else {
                    throw InventoryError(
                        description:
                            "\(doc.source): kind \(doc.kind ?? ""): a nodes file holds Node objects or a `nodes:` list")
                }
                nodes.append(try ObjectDecoding.decode(doc.value, as: Node.self))
                continue
            }
            guard let entries = doc.value["nodes"]?.arrayValue else {
                throw InventoryError(description: "\(doc.source): nodes: Required value: a list of nodes")
            }
            for (i, entry) in entries.enumerated() {
                nodes += try parseEntry(entry, path: "\(doc.source): nodes[\(i)]")
            }
        }
        var seen = Set<String>()
        for node in nodes where !seen.insert(node.metadata.nameOrEmpty).inserted {
            throw InventoryError(description: "\(source): duplicate node name \"\(node.metadata.nameOrEmpty)\"")
        }
        if nodes.isEmpty { throw InventoryError(description: "\(source): no nodes declared") }
        return nodes
    }

    static func parseEntry(_ entry: JSONValue, path: String) throws -> [Node] {
        guard let fields = entry.objectValue else { throw InventoryError(description: "\(path): expected an object") }
        let known: Set<String> = ["name", "namePrefix", "count", "racks", "accelerator", "devices", "labels", "mig"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw InventoryError(
                description: "\(path).\(unknown): unknown field (known: \(known.sorted().joined(separator: ", ")))")
        }
        let accelerator = fields["accelerator"]?.stringValue
        guard let devices = fields["devices"]?.intValue ?? (accelerator == nil ? 0 : nil), devices >= 0, devices <= 64
        else {
            throw InventoryError(description: "\(path).devices: Required value: a whole number of devices from 0 to 64")
        }
        var mig: [Int] = []
        switch fields["mig"] {
        case nil: break
        case .bool(let all)?: mig = all ? Array(0..<Int(devices)) : []
        case let value? where value.intValue.map({ $0 >= 0 && $0 <= devices }) == true:
            mig = Array(0..<Int(value.intValue ?? 0))
        default:
            throw InventoryError(
                description: "\(path).mig: must be true, false, or how many of the \(devices) devices are in MIG mode")
        }
        if !mig.isEmpty && MIGProfile.profiles(for: accelerator).isEmpty {
            throw InventoryError(
                description:
                    "\(path).mig: \(accelerator ?? "no accelerator") has no MIG profiles Starling knows "
                    + "(it partitions H100-80GB and A100-80GB)")
        }
        var labels: [String: String] = [:]
        for (k, v) in fields["labels"]?.objectValue ?? [:] {
            guard let s = v.stringValue else {
                throw InventoryError(description: "\(path).labels.\(k): must be a string")
            }
            labels[k] = s
        }
        if let name = fields["name"]?.stringValue {
            let errors = Validation.dnsSubdomainErrors(name, path: "\(path).name")
            if let e = errors.first { throw InventoryError(description: e.description) }
            return [makeNode(name: name, accelerator: accelerator, devices: Int(devices), labels: labels, mig: mig)]
        }
        guard let prefix = fields["namePrefix"]?.stringValue, let count = fields["count"]?.intValue, count >= 1 else {
            throw InventoryError(description: "\(path): give `name`, or `namePrefix` with `count` >= 1")
        }
        let racks = Int(fields["racks"]?.intValue ?? 1)
        guard racks >= 1 else { throw InventoryError(description: "\(path).racks: must be >= 1") }
        return (0..<Int(count)).map { i in
            var l = labels
            if l[WellKnown.rackLabel] == nil { l[WellKnown.rackLabel] = "rack-\(i * racks / Int(count))" }
            return makeNode(name: "\(prefix)\(i)", accelerator: accelerator, devices: Int(devices), labels: l, mig: mig)
        }
    }

    /// Real NVIDIA GPUs from `nvidia-smi`, as one node named after this host; nil when there are none.
    public static func detectGPUs() -> [Node]? {
        let candidates = ["/usr/bin/nvidia-smi", "/usr/local/bin/nvidia-smi", "/usr/local/nvidia/bin/nvidia-smi"]
        guard let smi = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: smi)
        process.arguments = [
            "--query-gpu=index,name,memory.total,uuid,mig.mode.current", "--format=csv,noheader,nounits",
        ]
        guard let text = run(process) else { return nil }
        let rows = text.split(separator: "\n").map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard let first = rows.first, first.count >= 3 else { return nil }
        let type = acceleratorType(name: first[1], memoryMiB: Int(first[2]) ?? 0)
        let host =
            ProcessInfo.processInfo.hostName.lowercased().split(separator: ".").first.map(String.init) ?? "gpu-node"
        // MIG mode as the GPU reports it (`Enabled`; `[N/A]` on GPUs without MIG).
        let mig = rows.enumerated().compactMap { i, row in row.count >= 5 && row[4] == "Enabled" ? i : nil }
        let uuids = rows.compactMap { $0.count >= 4 ? $0[3] : nil }
        let partitioned = !MIGProfile.profiles(for: type).isEmpty && !mig.isEmpty
        // The MIG devices that exist (Starling does not create them): `nvidia-smi -L` lists them with their UUIDs.
        var instances: [Int: [GPUInventory.MIGInstance]]?
        if partitioned {
            let list = Process()
            list.executableURL = URL(fileURLWithPath: smi)
            list.arguments = ["-L"]
            instances = run(list).map(migInstances(fromList:)) ?? [:]
        }
        return [
            makeNode(
                name: host, accelerator: type, devices: rows.count, real: true, mig: partitioned ? mig : [],
                uuids: uuids.count == rows.count ? uuids : [], migInstances: instances)
        ]
    }

    /// A process's standard output, or nil when it cannot run or fails.
    static func run(_ process: Process) -> String? {
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// The MIG devices `nvidia-smi -L` lists, by GPU index:
    ///
    ///     GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5d5ba0d6-…)
    ///       MIG 3g.40gb     Device  0: (UUID: MIG-c6d4f1ef-…)
    public static func migInstances(fromList text: String) -> [Int: [GPUInventory.MIGInstance]] {
        var byGPU: [Int: [GPUInventory.MIGInstance]] = [:]
        var gpu: Int?
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.first == "GPU", words.count >= 2, let index = Int(words[1].dropLast()) {
                gpu = index
            } else if words.first == "MIG", words.count >= 6, let gpu, words[2] == "Device",
                let ordinal = Int(words[3].dropLast()), let open = line.range(of: "UUID: "),
                let close = line[open.upperBound...].firstIndex(of: ")")
            {
                byGPU[gpu, default: []].append(
                    GPUInventory.MIGInstance(
                        profile: String(words[1]), ordinal: ordinal, uuid: String(line[open.upperBound..<close])))
            }
        }
        return byGPU
    }

    /// `NVIDIA H100 80GB HBM3` with 81559 MiB becomes `H100-80GB`.
    public static func acceleratorType(name: String, memoryMiB: Int) -> String {
        let model =
            name.replacingOccurrences(of: "NVIDIA ", with: "").split(separator: " ").first.map(String.init) ?? name
        let gb = Int((Double(memoryMiB) / 1024).rounded())
        let rounded = [16, 24, 32, 40, 48, 80, 94, 141, 192].min { abs($0 - gb) < abs($1 - gb) } ?? gb
        // Names such as `A100-SXM4-40GB` already carry the memory size.
        if model.hasSuffix("-\(rounded)GB") || model.hasSuffix("\(rounded)GB") { return model }
        return "\(model)-\(rounded)GB"
    }
}
