import ArgumentParser
import Foundation
import StarlingAPI
import StarlingClient

/// Where client commands find the API server.
struct ClientOptions: ParsableArguments {
    @Option(help: "Path to a kubeconfig file (default: $KUBECONFIG, then <data-dir>/kubeconfig of `starling up`).")
    var kubeconfig: String?

    @Option(
        help: "Data directory of `starling up` whose kubeconfig to use (default: $STARLING_DATA_DIR or ~/.starling).")
    var dataDir: String?

    @Option(name: [.short, .long], help: "Namespace (default: the kubeconfig context's, usually `default`).")
    var namespace: String?

    func client() throws -> KubeClient {
        let path =
            kubeconfig ?? ProcessInfo.processInfo.environment["KUBECONFIG"]
            ?? "\(dataDir ?? DataDirectory.default)/kubeconfig"
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("no kubeconfig at \(path): is `starling up` running? (or pass --kubeconfig)")
        }
        var config = try KubeConfig.load(path: path)
        if let namespace { config.namespace = namespace }
        return try KubeClient(config: config)
    }
}

/// The default data directory.
enum DataDirectory {
    static var `default`: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["STARLING_DATA_DIR"], !d.isEmpty { return d }
        return "\(env["HOME"] ?? NSHomeDirectory())/.starling"
    }
}

/// Resolves a kind as users type it.
func resourceType(_ name: String) throws -> any KubernetesResource.Type {
    guard let type = ResourceTypes.type(named: name) else {
        throw CLIError(
            "the server doesn't have a resource type \"\(name)\" (known: \(ResourceTypes.knownNames.joined(separator: ", ")))"
        )
    }
    return type
}

/// `kind/name` or `kind name`.
func splitTarget(_ kind: String, _ name: String?) throws -> (any KubernetesResource.Type, String?) {
    if name == nil, let slash = kind.firstIndex(of: "/") {
        return (try resourceType(String(kind[..<slash])), String(kind[kind.index(after: slash)...]))
    }
    return (try resourceType(kind), name)
}
