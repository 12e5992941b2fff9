import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import StarlingServerLimits

/// `/healthz` and `/readyz` for a Kubernetes Deployment's probes, on their own port with small connection limits
/// (`ConnectionLimits.probes`). Both answer 200 while the process serves; `/readyz` answers 503 until `ready`
/// says so.
struct ProbeServer: Service {
    let host: String
    let port: Int
    let ready: @Sendable () async -> Bool
    let logger: Logger

    func run() async throws {
        let router = Router()
        router.get("/healthz") { _, _ in "ok" }
        let ready = self.ready
        router.get("/readyz") { _, _ -> Response in
            guard await ready() else {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "not ready")))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        let limits = ConnectionLimits.probes
        let server: HTTPServerBuilder = .http1(
            configuration: .init(additionalChannelHandlers: [
                ConnectionLimitHandler<HTTPTypesFlavor>(
                    limits: limits, counter: ConnectionCounter(limit: limits.maxConnections),
                    refusal: ("text/plain", "too many probe connections"), onLimit: { _ in })
            ]))
        let logger = self.logger
        let app = Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "starling-probes", backlog: limits.listenBacklog),
            onServerRunning: { channel in
                logger.info("probes listening", metadata: ["http.port": "\(channel.localAddress?.port ?? 0)"])
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [])
    }
}
