import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingAPI
import StarlingClient
import StarlingTestSupport
import Testing

@testable import StarlingCLI

/// `starling up` with no manifests: the quickstart demo served through the gateway, which follows the
/// ModelService's ready pods.
@Suite(.serialized) struct QuickstartEndToEndTests {
    @Test func theBuiltInDemoIsTheExampleFile() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/quickstart.yaml")
        #expect(try String(contentsOf: url, encoding: .utf8) == Quickstart.manifest + "\n")
    }

    @Test func upServesTheDemoThroughTheGatewayAndFollowsScaling() async throws {
        let dir = try scratchDirectory("starling-qs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let up = try StarlingProcess(dataDirectory: dir, arguments: [], demo: true)
        defer { up.stop() }
        let kube = try await up.client()
        let output = up.output
        let gatewayLine = try #require(output.split(separator: "\n").first { $0.contains("Gateway:") })
        let url = try #require(gatewayLine.split(separator: " ").first { $0.hasPrefix("http://") }).description
        let curl = try #require(output.split(separator: "\n").first { $0.contains("Stream:") })
        #expect(curl.contains("curl -N \(url)/v1/chat/completions") && curl.contains(#""stream":true"#))
        #expect(output.contains("modelservice.starling.dev/quickstart created"))

        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        // Different first words: identical prompts would (rightly) all follow their prefix to one replica.
        @Sendable func chat(_ n: Int = 0) async throws -> (status: Int, endpoint: String?, body: String) {
            var request = HTTPClientRequest(url: url + "/v1/chat/completions")
            request.method = .POST
            request.body = .bytes(
                ByteBuffer(
                    string:
                        #"{"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[{"role":"user","content":"\#(n) Hello!"}],"max_tokens":4,"stream":true}"#
                ))
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (
                Int(response.status.code), response.headers.first(name: "x-starling-endpoint"), String(buffer: body)
            )
        }
        try await waitUntil("the demo to answer through the gateway") { try await chat().status == 200 }
        let reply = try await chat()
        #expect(reply.body.hasPrefix("data: ") && reply.body.hasSuffix("data: [DONE]\n\n"))

        // Scaling up adds the new replica to the gateway's pool.
        var service = try await kube.get(ModelService.self, name: "quickstart")
        service.spec.replicas = 3
        _ = try await kube.update(service)
        try await waitUntil("the third replica to serve") {
            let pods = try await kube.list(Pod.self, labelSelector: "starling.dev/model-service=quickstart").items
            return pods.filter(\.isReady).count == 3
        }
        let addresses = try await kube.list(Pod.self, labelSelector: "starling.dev/model-service=quickstart").items
            .compactMap { $0.status?.podIP }
        try await waitUntil("the gateway to route to all three") {
            let metrics = try await client.execute(HTTPClientRequest(url: url + "/metrics"), timeout: .seconds(5))
            let text = String(buffer: try await metrics.body.collect(upTo: 1 << 22))
            return text.contains(#"starling_gateway_endpoints{pool="quickstart",state="healthy"} 3"#)
        }
        var seen: Set<String> = []
        for n in 0..<60 where seen.count < 3 {
            if let endpoint = try await chat(n).endpoint { seen.insert(endpoint) }
        }
        #expect(seen == Set(addresses.map { "\($0):8000" }))
        await up.stopped()
    }
}
