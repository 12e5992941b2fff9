import AsyncHTTPClient
import Foundation
import NIOCore
import StarlingAPI
import StarlingClient
import StarlingTestSupport
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
        let dir = try scratchDirectory("starling-as")
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
        // One replica was made for the held request. The service's replica count is not read here: the idle
        // service may already be back at zero, 3 s after the answer, on a loaded machine.
        let events = try await kube.list(Event.self).items.filter { $0.reason == "ScaledUp" }
        #expect(events.reduce(0) { $0 + ($1.count ?? 1) } == 1, "\(events.compactMap(\.message))")
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
        // So are its arrivals and completions, which the operator's autoscaler turns into rates.
        #expect(exposition.contains(#"starling_gateway_pool_arrivals_total{pool="scaled"} 1"#), "\(exposition)")
        #expect(exposition.contains(#"starling_gateway_pool_completions_total{pool="scaled"} 1"#))

        try await waitUntil("back to zero once idle", timeout: .seconds(60)) {
            try await kube.get(ModelService.self, name: "scaled").spec.replicas == 0
        }
        try await waitUntil("the pod gone", timeout: .seconds(60)) { try await kube.list(Pod.self).items.isEmpty }
        let status = try await kube.get(ModelService.self, name: "scaled").status?.autoscaling
        #expect(status?.desiredReplicas == 0 && status?.reason == "no request for 3s", "\(String(describing: status))")
    }
}

/// Removing a replica drains it: the gateway stops sending it new requests as soon as its pods are being deleted,
/// and its preStop hook (`starling drain`) holds the stop signal until every stream it serves has finished.
@Suite(.serialized) struct DrainEndToEndTests {
    static let service = """
        apiVersion: starling.dev/v1alpha1
        kind: ModelService
        metadata: {name: drained}
        spec:
          model: drained-chat
          replicas: 2
          server:
            engine: sim
            profile: tiny
            # 20 times slower than the profile: 100-token streams take seconds, so the scale-down lands mid-stream.
            args: ["--time-scale", "0.05"]
        """

    @Test func aScaleDownDuringFiftyStreamsCompletesEveryOne() async throws {
        let dir = try scratchDirectory("starling-dr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.service.write(toFile: "\(dir)/drained.yaml", atomically: true, encoding: .utf8)
        let up = try StarlingProcess(dataDirectory: dir, arguments: ["-f", "\(dir)/drained.yaml"])
        defer { up.stop() }
        let kube = try await up.client()
        let gatewayLine = try #require(up.output.split(separator: "\n").first { $0.contains("Gateway:") })
        let url = try #require(gatewayLine.split(separator: " ").first { $0.hasPrefix("http://") }).description
        var configuration = HTTPClient.Configuration()
        // One connection per stream: AsyncHTTPClient's default of 8 a host would queue the rest.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        try await waitUntil("both replicas in the gateway", timeout: .seconds(60)) {
            let response = try await client.execute(HTTPClientRequest(url: url + "/metrics"), timeout: .seconds(5))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 22))
            return text.contains(#"starling_gateway_endpoints{pool="drained",state="healthy"} 2"#)
        }
        let removed = try await kube.get(Pod.self, name: "drained-1")
        let removedEndpoint = "\(removed.status?.podIP ?? ""):\(removed.servingPort ?? 0)"

        let (started, startedContinuation) = AsyncStream.makeStream(of: String.self)
        let results = Task {
            // Ends the wait for response heads below also when a request fails.
            defer { startedContinuation.finish() }
            return try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
                for n in 0..<50 {
                    group.addTask {
                        var request = HTTPClientRequest(url: url + "/v1/completions")
                        request.method = .POST
                        request.body = .bytes(
                            ByteBuffer(
                                string:
                                    #"{"model":"drained-chat","prompt":"\#(n) tell me","max_tokens":100,"ignore_eos":true,"stream":true}"#
                            ))
                        let response = try await client.execute(request, timeout: .seconds(60))
                        let endpoint = response.headers.first(name: "x-starling-endpoint") ?? ""
                        startedContinuation.yield(endpoint)
                        let body = String(buffer: try await response.body.collect(upTo: 1 << 22))
                        return (endpoint, Int(response.status.code), body)
                    }
                }
                var all: [(String, Int, String)] = []
                for try await result in group { all.append(result) }
                return all
            }
        }
        var streaming = 0
        for await _ in started {
            streaming += 1
            if streaming == 50 { break }
        }
        // Every stream has its response head: scale down mid-stream.
        _ = try await kube.updateScale(ModelService.self, name: "drained", replicas: 1)
        let all = try await results.value
        #expect(all.count == 50)
        for (endpoint, status, body) in all {
            #expect(status == 200, "\(endpoint): \(status)")
            #expect(body.hasSuffix("data: [DONE]\n\n"), "\(endpoint) cut off: \(body.suffix(200))")
            #expect(!body.contains(#""error""#), "\(endpoint): \(body.suffix(300))")
        }
        let onRemoved = all.filter { $0.0 == removedEndpoint }.count
        #expect(onRemoved > 0, "some streams ran on the removed replica \(removedEndpoint)")
        try await waitUntil("the removed replica gone", timeout: .seconds(60)) {
            try await kube.list(Pod.self).items.map(\.metadata.nameOrEmpty) == ["drained-0"]
        }
        #expect(up.output.contains("running the preStop hook"))
    }
}
