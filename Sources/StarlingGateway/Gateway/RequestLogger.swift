import Logging

/// A logger for one proxied request: adds its id (and the endpoint, once picked) to what it logs. The metadata is
/// built only for messages the level lets through; setting it on a `Logger` per request would cost every request
/// the handler's metadata work, logged or not.
struct RequestLogger: Sendable {
    let logger: Logger
    let requestID: String
    var endpoint: String?

    func log(
        _ level: Logger.Level, _ message: @autoclosure () -> Logger.Message,
        _ extra: @autoclosure () -> Logger.Metadata = [:], file: String = #fileID, function: String = #function,
        line: UInt = #line
    ) {
        logger.log(
            level: level, message(), metadata: metadata(extra()), file: file, function: function, line: line)
    }

    private func metadata(_ extra: Logger.Metadata) -> Logger.Metadata {
        var metadata = extra
        metadata["request.id"] = "\(requestID)"
        if let endpoint { metadata["endpoint"] = "\(endpoint)" }
        return metadata
    }
}
