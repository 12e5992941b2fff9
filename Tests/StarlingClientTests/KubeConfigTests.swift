import Foundation
import StarlingAPI
import StarlingTestSupport
import Testing

@testable import StarlingClient

@Suite struct KubeConfigTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func loadsTheCurrentContext() throws {
        let path = try write(KubeConfig.document(server: "http://127.0.0.1:1234", token: "abc"))
        let config = try KubeConfig.load(path: path)
        #expect(config.server == "http://127.0.0.1:1234")
        #expect(config.token == "abc")
        #expect(config.namespace == "default")
    }

    @Test func loadsCertificatesAndNamedContexts() throws {
        let ca = Data("-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()
        let path = try write(
            """
            apiVersion: v1
            kind: Config
            current-context: a
            clusters:
            - name: c
              cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: \(ca)}
            users:
            - name: u
              user: {client-certificate-data: \(ca), client-key-data: \(ca)}
            contexts:
            - name: a
              context: {cluster: c, user: u, namespace: team}
            - name: b
              context: {cluster: c, user: u}
            """)
        let a = try KubeConfig.load(path: path)
        #expect(a.server == "https://10.0.0.1:6443")
        #expect(a.certificateAuthorityPEM != nil && a.clientCertificatePEM != nil && a.clientKeyPEM != nil)
        #expect(a.namespace == "team")
        #expect(try KubeConfig.load(path: path, context: "b").namespace == "default")
        #expect(throws: KubeConfig.LoadError.self) { try KubeConfig.load(path: path, context: "missing") }
    }

    @Test func inClusterNeedsTheServiceEnvironment() throws {
        #expect(throws: KubeConfig.LoadError.self) { try KubeConfig.inCluster(environment: [:]) }
        let root = try scratchDirectory("sa")
        try "tok\n".write(toFile: "\(root)/token", atomically: true, encoding: .utf8)
        try "ns1".write(toFile: "\(root)/namespace", atomically: true, encoding: .utf8)
        let config = try KubeConfig.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], root: root)
        #expect(config.server == "https://10.96.0.1:443")
        #expect(config.token == "tok")
        #expect(config.namespace == "ns1")
    }
}

@Suite struct WorkQueueTests {
    @Test func deduplicatesAndHoldsKeysBeingProcessed() async {
        let q = WorkQueue<String>()
        await q.add("a")
        await q.add("a")
        await q.add("b")
        #expect(await q.count == 2)
        let first = await q.next()
        #expect(first == "a")
        await q.add("a")  // added while processing: held back until done
        #expect(await q.next() == "b")
        #expect(await q.count == 0)
        await q.done("a")
        #expect(await q.next() == "a")
    }

    @Test func shutdownReleasesWaiters() async {
        let q = WorkQueue<String>()
        async let waiting = q.next()
        await q.shutDown()
        #expect(await waiting == nil)
    }

    @Test func failuresBackOffAndAreForgotten() async {
        let q = WorkQueue<String>(baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        await q.addRateLimited("k")
        await q.addRateLimited("k")
        #expect(await q.failureCount("k") == 2)
        #expect(await q.next() == "k")
        await q.forget("k")
        #expect(await q.failureCount("k") == 0)
    }
}
