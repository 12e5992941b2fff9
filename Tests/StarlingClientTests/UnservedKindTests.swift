import Foundation
import StarlingAPI
import StarlingTestSupport
import Testing

@testable import StarlingClient

#if canImport(Glibc)
import Glibc
#endif

/// A server that does not serve a kind (a Kubernetes cluster without Starling's CRDs) is named as such, not
/// reported as a missing object.
@Suite struct UnservedKindTests {
    @Test(
        arguments: [
            ("/apis/starling.dev/v1alpha1/namespaces/default/modelservices", "modelservices.starling.dev/v1alpha1"),
            (
                "/apis/starling.dev/v1alpha1/namespaces/default/modelservices/a/status",
                "modelservices.starling.dev/v1alpha1"
            ),
            ("/api/v1/nodes/n1", "nodes (v1)"),
            ("/api/v1/namespaces/kube-system/pods?watch=1", "pods (v1)"),
            ("/version", nil),
            ("/apis/starling.dev/v1alpha1", nil),
        ] as [(String, String?)])
    func theResourceIsReadFromThePath(path: String, resource: String?) {
        #expect(KubeClient.resource(inPath: path) == resource)
    }

    @Test func aKindTheServerDoesNotServeIsNamed() async throws {
        let listener = try LoopbackListener()
        let port = listener.port
        let fd = listener.fd
        // A kube-apiserver without the CRDs: 404 with an empty details object to every request.
        let answer =
            #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#
        let server = Thread {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 65536)
            _ = read(client, &buffer, buffer.count)
            let response =
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: \(answer.utf8.count)\r\n"
                + "connection: close\r\n\r\n\(answer)"
            _ = response.withCString { write(client, $0, strlen($0)) }
            close(client)
        }
        server.start()
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)", token: "t"))
        await #expect {
            _ = try await client.list(ModelService.self)
        } throws: { error in
            let status = error as! Status
            return status.code == 404
                && (status.message ?? "").contains("does not serve modelservices.starling.dev/v1alpha1")
                && (status.message ?? "").contains("starling manifests | kubectl apply -f -")
        }
        #expect(listener.port == port)
    }
}
