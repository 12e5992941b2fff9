import Foundation
import StarlingAPI
import Yams

/// Where a client connects and how it authenticates: read from a kubeconfig file or from a pod's service account.
public struct KubeConfig: Sendable, Equatable {
    /// Base URL of the API server (`https://10.0.0.1:6443`, `http://127.0.0.1:7443`).
    public var server: String
    public var token: String?
    /// PEM bundle of CAs to trust.
    public var certificateAuthorityPEM: Data?
    public var clientCertificatePEM: Data?
    public var clientKeyPEM: Data?
    public var insecureSkipTLSVerify: Bool
    /// The namespace of the current context.
    public var namespace: String

    public init(
        server: String, token: String? = nil, certificateAuthorityPEM: Data? = nil, clientCertificatePEM: Data? = nil,
        clientKeyPEM: Data? = nil, insecureSkipTLSVerify: Bool = false, namespace: String = WellKnown.defaultNamespace
    ) {
        self.server = server
        self.token = token
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.namespace = namespace
    }

    /// A configuration error naming the file and the field.
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Loads the current (or named) context of a kubeconfig file.
    public static func load(path: String, context: String? = nil) throws -> KubeConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LoadError(description: "cannot read kubeconfig \(path)")
        }
        let docs: [ManifestDocument]
        do { docs = try ManifestDecoder.documents(from: text, source: path) } catch {
            throw LoadError(description: "\(error)")
        }
        guard let root = docs.first?.value else { throw LoadError(description: "\(path): empty kubeconfig") }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func named(_ list: String, _ name: String) -> JSONValue? {
            root[list]?.arrayValue?.first { $0["name"]?.stringValue == name }
        }
        guard let contextName = context ?? root["current-context"]?.stringValue, !contextName.isEmpty else {
            throw LoadError(description: "\(path): current-context: Required value (or pass a context)")
        }
        guard let ctx = named("contexts", contextName)?["context"] else {
            throw LoadError(description: "\(path): contexts: no context named \"\(contextName)\"")
        }
        guard let clusterName = ctx["cluster"]?.stringValue, let cluster = named("clusters", clusterName)?["cluster"]
        else {
            throw LoadError(description: "\(path): clusters: no cluster for context \"\(contextName)\"")
        }
        guard let server = cluster["server"]?.stringValue, !server.isEmpty else {
            throw LoadError(description: "\(path): clusters[\(clusterName)].cluster.server: Required value")
        }
        let user = ctx["user"]?.stringValue.flatMap { named("users", $0)?["user"] } ?? .object([:])
        func file(_ value: JSONValue?, data: JSONValue?, field: String) throws -> Data? {
            if let b64 = data?.stringValue {
                guard let d = Data(base64Encoded: b64) else {
                    throw LoadError(description: "\(path): \(field)-data: not base64")
                }
                return d
            }
            guard let p = value?.stringValue else { return nil }
            let url = p.hasPrefix("/") ? URL(fileURLWithPath: p) : base.appendingPathComponent(p)
            guard let d = try? Data(contentsOf: url) else {
                throw LoadError(description: "\(path): \(field): cannot read \(url.path)")
            }
            return d
        }
        var token = user["token"]?.stringValue
        if token == nil, let tokenFile = user["tokenFile"]?.stringValue {
            token = try file(.string(tokenFile), data: nil, field: "tokenFile").flatMap {
                String(data: $0, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return KubeConfig(
            server: server, token: token,
            certificateAuthorityPEM: try file(
                cluster["certificate-authority"], data: cluster["certificate-authority-data"],
                field: "certificate-authority"),
            clientCertificatePEM: try file(
                user["client-certificate"], data: user["client-certificate-data"], field: "client-certificate"),
            clientKeyPEM: try file(user["client-key"], data: user["client-key-data"], field: "client-key"),
            insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] == .bool(true),
            namespace: ctx["namespace"]?.stringValue ?? WellKnown.defaultNamespace)
    }

    /// The service-account configuration of a pod (`KUBERNETES_SERVICE_HOST`, mounted token and CA).
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        root: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"]
        else {
            throw LoadError(
                description: "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset")
        }
        guard let token = try? String(contentsOfFile: "\(root)/token", encoding: .utf8) else {
            throw LoadError(description: "cannot read the service-account token at \(root)/token")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubeConfig(
            server: "https://\(hostPart):\(port)", token: token.trimmingCharacters(in: .whitespacesAndNewlines),
            certificateAuthorityPEM: try? Data(contentsOf: URL(fileURLWithPath: "\(root)/ca.crt")),
            namespace: (try? String(contentsOfFile: "\(root)/namespace", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? WellKnown.defaultNamespace)
    }

    /// A kubeconfig document for `server` with a bearer token, as `starling up` writes it.
    public static func document(
        server: String, token: String, certificateAuthorityPEM: Data? = nil, name: String = "starling"
    ) -> String {
        let ca = certificateAuthorityPEM.map { "\n    certificate-authority-data: \($0.base64EncodedString())" } ?? ""
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(name)
              cluster:
                server: \(server)\(ca)
            users:
            - name: \(name)
              user:
                token: \(token)
            contexts:
            - name: \(name)
              context:
                cluster: \(name)
                user: \(name)
                namespace: default
            current-context: \(name)

            """
    }
}

extension KubeConfig {
    /// Finds the configuration as kubectl does: `--kubeconfig`, then `$KUBECONFIG` (the first file of the list that
    /// exists), then the pod's service account when running in a cluster, then `~/.kube/config`.
    public static func resolve(
        path: String?, context: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> KubeConfig {
        if let path { return try load(path: path, context: context) }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init)
            guard let first = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw LoadError(description: "KUBECONFIG names no file that exists: \(list)")
            }
            return try load(path: first, context: context)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil { return try inCluster(environment: environment) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let fallback = "\(home)/.kube/config"
        guard FileManager.default.fileExists(atPath: fallback) else {
            throw LoadError(
                description: "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a pod, or "
                    + "create \(fallback)")
        }
        return try load(path: fallback, context: context)
    }
}
