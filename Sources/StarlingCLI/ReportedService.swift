import Logging
import ServiceLifecycle

/// A service of `starling up` that says, at error level, when it ends on its own: any one ending stops the
/// whole group (and cancels the rest), and the group itself reports which one only at debug level.
struct ReportedService: Service {
    let name: String
    let service: any Service
    let logger: Logger

    func run() async throws {
        do {
            try await service.run()
        } catch {
            if !Task.isCancelled && !Task.isShuttingDownGracefully {
                logger.error("service failed", metadata: ["service.name": "\(name)", "error.message": "\(error)"])
            }
            throw error
        }
        if !Task.isCancelled && !Task.isShuttingDownGracefully {
            logger.error("service ended unexpectedly", metadata: ["service.name": "\(name)"])
        }
    }
}
