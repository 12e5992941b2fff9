import Foundation
import StarlingAPI
import StarlingClient
import StarlingSimulator
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
import StarlingTestSupport
#endif

/// A ModelService with engine `sim` runs `starling model-server` pods that answer vLLM's API.
@Suite(.serialized) struct SimulatedEngineEndToEndTests {
    static let service = """
        apiVersion: starling.dev/v1alpha1
        kind: ModelService
        metadata:
          name: tiny
        spec:
          model: tiny-chat
          replicas: 1
          group:
            size: 2
          accelerators:
            type: H100-80GB
            count: 1
          adapters:
            - name: sql-lora
          server:
            engine: sim
            profile: tiny
            args: ["--time-scale", "10"]
        """

    @Test func simEngineServesCompletionsFromTheLeader() async throws {
        let dir = try scratchDirectory("starling-sim")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.service.write(toFile: "\(dir)/tiny.yaml", atomically: true, encoding: .utf8)
        let up = try StarlingProcess(dataDirectory: dir, arguments: ["-f", "\(dir)/tiny.yaml"])
        defer { up.stop() }
        let client = try await up.client()

        try await waitUntil("leader and worker ready") {
            let pods = try await client.list(Pod.self, labelSelector: "starling.dev/model-service=tiny").items
            return pods.count == 2 && pods.allSatisfy(\.isReady)
        }
        let leader = try await client.get(Pod.self, name: "tiny-0")
        let ip = try #require(leader.status?.podIP)
        let port = try #require(leader.spec.containers[0].ports?.first?.containerPort)
        #expect(leader.spec.containers[0].command?.contains("--profile") == true)

        let models = try await Self.get("http://\(ip):\(port)/v1/models")
        #expect(models.contains("\"tiny-chat\"") && models.contains("\"sql-lora\""))
        let body = #"{"model":"sql-lora","prompt":"Select every row","max_tokens":4,"ignore_eos":true}"#
        let reply = try await Self.post("http://\(ip):\(port)/v1/completions", body: body)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 4)
        #expect(json["model"] as? String == "sql-lora")
    }

    static func get(_ url: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return String(decoding: data, as: UTF8.self)
    }

    static func post(_ url: String, body: String) async throws -> String {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }
}

@Test func apiProfileListMatchesTheSimulatorCatalog() {
    #expect(WellKnown.simulatorProfiles == ProfileCatalog.names)
}

/// A simulated server loads for its startup time (scaled by --time-scale) before it listens, as vLLM binds only once
/// its engine is up; the profiles carry published cold-start figures.
@Suite struct ModelServerStartupTests {
    @Test func theServerListensOnlyAfterItsLoadTime() async throws {
        let started = ContinuousClock.now
        let server = try ModelServerProcess(["--startup-seconds", "3", "--time-scale", "2"])
        defer { server.stop() }
        try await server.waitListening()
        #expect(ContinuousClock.now - started >= .milliseconds(1500), "3 simulated seconds at 2x")
        #expect(server.output.contains("loading the model before listening"))
        let loading = try #require(server.output.range(of: "loading the model"))
        let listening = try #require(server.output.range(of: "model server listening"))
        #expect(loading.lowerBound < listening.lowerBound)
    }

    @Test func profilesCarryTheirColdStartAndBadValuesAreNamed() throws {
        #expect(ProfileCatalog.profile(named: "llama-3.1-8b-h100")?.startupSeconds == 82)
        #expect(ProfileCatalog.profile(named: "tiny")?.startupSeconds == 0)
        #expect(
            ProfileCatalog.all.allSatisfy { $0.startupSeconds == 0 || $0.sources.contains { $0.hasPrefix("Startup:") } }
        )
        var configuration = ModelServerConfiguration(engine: EngineConfiguration(profile: ProfileCatalog.tiny))
        configuration.startupSeconds = -1
        #expect(configuration.validate().contains("--startup-seconds must be 0 or more, got -1.0"))
    }
}
