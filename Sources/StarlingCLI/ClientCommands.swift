import ArgumentParser
import Foundation
import StarlingAPI
import StarlingClient
import Yams

/// Output formats of `get`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, wide, yaml, json
}

func emit(_ value: JSONValue, format: OutputFormat) throws -> String {
    switch format {
    case .json:
        return String(decoding: try StarlingJSON.prettyEncoder.encode(value), as: UTF8.self)
    default:
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = true
        return try encoder.encode(value)
    }
}

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Create or update objects from YAML or JSON manifests.")
    @OptionGroup var client: ClientOptions
    @Option(name: [.short, .customLong("filename")], help: "Manifest file, or - for stdin (repeatable).")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("-f/--filename: at least one manifest is required") }
    }

    func run() async throws {
        let applier = Applier(client: try client.client())
        for file in files {
            for line in try await applier.apply(file: file, namespace: client.namespace) { print(line) }
        }
    }
}

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "List objects of a kind (modelservices, pods, nodes, events, leases), or show one.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Kind (e.g. modelservices, ms, pods, nodes) or kind/name.") var kind: String
    @Argument(help: "Name of one object.") var name: String?
    @Option(name: .short, help: "Output: table, wide, yaml or json.") var output: OutputFormat = .table
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List across all namespaces.")
    var allNamespaces = false
    @Option(name: [.short, .customLong("selector")], help: "Label selector, e.g. app=x,tier!=y.") var selector: String?

    func run() async throws {
        let (type, name) = try splitTarget(kind, self.name)
        let d = type.descriptor
        let c = try client.client()
        let ns: String? = d.namespaced ? (allNamespaces ? nil : (client.namespace ?? c.defaultNamespace)) : nil
        if let name {
            let obj = try await c.getRaw(d, namespace: ns, name: name)
            if output == .yaml || output == .json {
                print(try emit(obj, format: output), terminator: output == .json ? "\n" : "")
            } else {
                let rows =
                    [TablePrinter.columns(kind: d.kind, wide: output == .wide, allNamespaces: false)]
                    + [TablePrinter.row(obj, kind: d.kind, wide: output == .wide, allNamespaces: false)]
                print(TablePrinter.render(rows))
            }
            return
        }
        try await listTable(
            client: client, kind: kind, allNamespaces: allNamespaces, selector: selector, output: output)
    }
}

/// Lists a kind as a table, YAML or JSON.
func listTable(
    client: ClientOptions, kind: String, allNamespaces: Bool, selector: String?, output: OutputFormat
) async throws {
    let d = try resourceType(kind).descriptor
    let c = try client.client()
    let ns: String? = d.namespaced ? (allNamespaces ? nil : (client.namespace ?? c.defaultNamespace)) : nil
    let list = try await c.listRaw(d, namespace: ns, labelSelector: selector)
    let items = list["items"]?.arrayValue ?? []
    if output == .yaml || output == .json {
        print(try emit(list, format: output), terminator: output == .json ? "\n" : "")
        return
    }
    if items.isEmpty {
        FileHandle.standardError.write(Data("No resources found\(ns.map { " in \($0) namespace" } ?? "").\n".utf8))
        return
    }
    let all = allNamespaces && d.namespaced
    var sorted = items
    if d.kind == "Event" {
        sorted.sort { ($0["lastTimestamp"]?.stringValue ?? "") < ($1["lastTimestamp"]?.stringValue ?? "") }
    }
    let rows =
        [TablePrinter.columns(kind: d.kind, wide: output == .wide, allNamespaces: all)]
        + sorted.map { TablePrinter.row($0, kind: d.kind, wide: output == .wide, allNamespaces: all) }
    print(TablePrinter.render(rows))
}

struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe", abstract: "Show one object in detail, with its recent events.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Kind or kind/name.") var kind: String
    @Argument(help: "Name.") var name: String?

    func run() async throws {
        let (type, name) = try splitTarget(kind, self.name)
        guard let name else { throw ValidationError("a name is required: starling describe \(kind) NAME") }
        let c = try client.client()
        let d = type.descriptor
        let obj = try await c.getRaw(d, namespace: client.namespace, name: name)
        var out = "Name:         \(name)\n"
        if d.namespaced { out += "Namespace:    \(obj.value(atPath: "metadata.namespace")?.stringValue ?? "")\n" }
        out += "Kind:         \(d.kind)\n"
        out += "Created:      \(obj.value(atPath: "metadata.creationTimestamp")?.stringValue ?? "")\n"
        var body = obj
        body["metadata"]?["managedFields"] = nil
        out +=
            "\n"
            + (try emit(
                .object([
                    "spec": body["spec"] ?? .null, "status": body["status"] ?? .null,
                    "labels": body.value(atPath: "metadata.labels") ?? .null,
                ]), format: .yaml))
        let uid = obj.value(atPath: "metadata.uid")?.stringValue ?? ""
        let events = try await c.listRaw(
            Event.descriptor, namespace: obj.value(atPath: "metadata.namespace")?.stringValue ?? c.defaultNamespace,
            fieldSelector: "involvedObject.uid=\(uid)")
        let items = (events["items"]?.arrayValue ?? []).sorted {
            ($0["lastTimestamp"]?.stringValue ?? "") < ($1["lastTimestamp"]?.stringValue ?? "")
        }
        out += "\nEvents:\n"
        if items.isEmpty {
            out += "  <none>\n"
        } else {
            let rows =
                [["TYPE", "REASON", "AGE", "MESSAGE"]]
                + items.map {
                    [
                        $0["type"]?.stringValue ?? "", $0["reason"]?.stringValue ?? "",
                        Timestamp.age(of: $0["lastTimestamp"]?.stringValue), $0["message"]?.stringValue ?? "",
                    ]
                }
            out += TablePrinter.render(rows).split(separator: "\n").map { "  \($0)" }.joined(separator: "\n") + "\n"
        }
        print(out, terminator: "")
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete objects by name or from a manifest.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Kind or kind/name.") var kind: String?
    @Argument(help: "Names.") var names: [String] = []
    @Option(name: [.short, .customLong("filename")], help: "Delete the objects in this manifest.") var files: [String] =
        []
    @Option(help: "Propagation: Background, Foreground or Orphan.") var cascade: String = "Background"

    func run() async throws {
        guard ["Background", "Foreground", "Orphan"].contains(cascade) else {
            throw ValidationError("--cascade: unsupported value \"\(cascade)\": use Background, Foreground or Orphan")
        }
        let c = try client.client()
        var targets: [(ResourceDescriptor, String?, String)] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("cannot read \(file)")
            }
            for doc in try ManifestDecoder.documents(from: text, source: file) {
                let type = try ManifestDecoder.resourceType(of: doc)
                guard let name = doc.name else { throw CLIError("\(doc.source): metadata.name: Required value") }
                targets.append(
                    (
                        type.descriptor, doc.value.value(atPath: "metadata.namespace")?.stringValue ?? client.namespace,
                        name
                    ))
            }
        }
        if let kind {
            let (type, name) = try splitTarget(kind, nil)
            let all = (name.map { [$0] } ?? []) + names
            if all.isEmpty { throw ValidationError("name a \(type.descriptor.singular) to delete") }
            for n in all { targets.append((type.descriptor, client.namespace, n)) }
        }
        if targets.isEmpty { throw ValidationError("give KIND NAME or -f FILE") }
        var failed = false
        for (d, ns, name) in targets {
            do {
                _ = try await c.deleteRaw(
                    d, namespace: ns, name: name, options: DeleteOptions(propagationPolicy: cascade))
                print("\(d.singular) \"\(name)\" deleted")
            } catch let s as Status {
                FileHandle.standardError.write(Data("Error from server (\(s.reason ?? "")): \(s.message ?? "")\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct ScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale", abstract: "Set the replicas of a ModelService.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "modelservice/NAME or NAME.") var target: String
    @Option(help: "Desired replicas (groups).") var replicas: Int

    func run() async throws {
        guard replicas >= 0 else { throw ValidationError("--replicas: must be >= 0") }
        let name = target.split(separator: "/").last.map(String.init) ?? target
        let c = try client.client()
        _ = try await c.updateScale(ModelService.self, namespace: client.namespace, name: name, replicas: replicas)
        print("modelservice.starling.dev/\(name) scaled")
    }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a pod's model server output.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Pod name.") var pod: String
    @Flag(name: [.short, .long], help: "Keep streaming new output.") var follow = false
    @Option(help: "Only the last N lines.") var tail: Int?

    func run() async throws {
        let c = try client.client()
        var query: [(String, String)] = []
        if follow { query.append(("follow", "true")) }
        if let tail { query.append(("tailLines", String(tail))) }
        let path = Pod.descriptor.path(namespace: client.namespace ?? c.defaultNamespace, name: pod, subresource: "log")
        let data = try await c.send(
            .GET, path: path, query: query, timeout: follow ? .seconds(86400 * 365) : .seconds(30))
        FileHandle.standardOutput.write(data)
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "List recent events, oldest first.")
    @OptionGroup var client: ClientOptions
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "Across all namespaces.") var allNamespaces =
        false

    func run() async throws {
        try await listTable(client: client, kind: "events", allNamespaces: allNamespaces, selector: nil, output: .table)
    }
}

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the client and server versions.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        print("Client Version: \(StarlingCommand.version)")
        if let c = try? client.client(), let data = try? await c.send(.GET, path: "/version"),
            let v = try? JSONValue.parse(data)
        {
            print("Server Version: \(v["gitVersion"]?.stringValue ?? "unknown")")
        } else {
            print("Server Version: not reachable (is `starling up` running?)")
        }
    }
}
