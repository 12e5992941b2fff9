import Hummingbird
import NIOCore

/// The request context of `starling model-server`: Hummingbird's basic one plus the connection, so a handler can
/// learn that its client went away.
struct ModelServerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's connection.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
