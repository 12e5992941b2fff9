import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingAPI
import StarlingClient
import Testing

/// `starling up` autoscaling a ModelService from zero and back: a request to a service with no replica is held by
/// the gateway, the autoscaler scales to one within a second of seeing it, the held request is served by the new
/// replica once it has loaded, and the idle service goes back to zero.
@Suite(.serialized) struct AutoscalingEndToEndTests {
    static let service = """
        apiVersion: starling.dev/v1alpha1
        kind: ModelService
        metadata: {name: scaled}
        spec:
          model: scaled-chat
          replicas: 0
          server:
            engine: sim
            profile: tiny
            args: ["--startup-seconds", "2"]
          autoscaling:
            minReplicas: 0
            maxReplicas: 2
            metric: concurrency
            target: 4
            scaleToZeroAfterSeconds: 3
            scaleDown: {stabilizationWindowSeconds: 0}
          routing: {holdTimeoutSeconds: 60}
        """

    @Test func aHeldRequestScalesFromZeroIsServedAndTheIdleServiceReturnsToZero() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-as-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.service.write(toFile: "\(dir)/scaled.yaml", atomically: true, encoding: .utf8)
        let up = try StarlingProcess(dataDirectory: dir, arguments: ["-f", "\(dir)/scaled.yaml"])
        defer { up.stop() }
        let kube = try await up.client()
        let gatewayLine = try #require(up.output.split(separator: "\n").first { $0.contains("Gateway:") })
        let url = try #require(gatewayLine.split(separator: " ").first { $0.hasPrefix("http://") }).description
        try await waitUntil("the service at zero") {
            try await kube.get(ModelService.self, name: "scaled").spec.replicas == 0
        }
        #expect(try await kube.list(Pod.self).items.isEmpty)

        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        var request = HTTPClientRequest(url: url + "/v1/completions")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"model":"scaled-chat","prompt":"Hello","max_tokens":3}"#))
        let sent = ContinuousClock.now
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(response.status.code == 200, "\(body)")
        #expect(ContinuousClock.now - sent >= .seconds(2), "held while the replica loaded")
        let service = try await kube.get(ModelService.self, name: "scaled")
        #expect(service.spec.replicas == 1)
        let events = try await kube.list(Event.self).items.filter { $0.reason == "ScaledUp" }
        #expect(events.first?.message?.contains("requests held with no replica: 0 → 1 replicas") == true)

        // The pool's signals are exported for KEDA or an HPA on external metrics.
        let metrics = try await client.execute(HTTPClientRequest(url: url + "/metrics"), timeout: .seconds(10))
        let exposition = String(buffer: try await metrics.body.collect(upTo: 1 << 22))
        for family in [
            "starling_gateway_pool_requests_running", "starling_gateway_pool_requests_waiting",
            "starling_gateway_pool_kv_cache_usage", "starling_gateway_queue_length",
        ] {
            #expect(exposition.contains("\(family){") && exposition.contains(#"pool="scaled""#), "\(family)")
        }

        try await waitUntil("back to zero once idle", timeout: .seconds(60)) {
            try await kube.get(ModelService.self, name: "scaled").spec.replicas == 0
        }
        try await waitUntil("the pod gone", timeout: .seconds(60)) { try await kube.list(Pod.self).items.isEmpty }
        let status = try await kube.get(ModelService.self, name: "scaled").status?.autoscaling
        #expect(status?.desiredReplicas == 0 && status?.reason == "no request for 3s", "\(String(describing: status))")
    }
}
