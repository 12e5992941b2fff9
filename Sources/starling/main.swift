import Foundation
import Logging
import StarlingCLI

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
await StarlingCommand.start()
