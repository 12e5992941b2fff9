import NIOCore
import Synchronization

/// Runs actions when a client's connection closes, with one close callback per connection however many requests
/// it carries (a callback per request would pile up on a long-lived keep-alive connection).
final class ConnectionCloseWatcher: Sendable {
    private let actions = Mutex<[ObjectIdentifier: [UInt64: @Sendable () -> Void]]>([:])
    private let next = Atomic<UInt64>(0)

    /// Runs `action` if `channel` closes before `cancel` is called with the returned token.
    func onClose(of channel: any Channel, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        let key = ObjectIdentifier(channel)
        let token = next.add(1, ordering: .relaxed).newValue
        let first = actions.withLock { actions in
            let first = actions[key] == nil
            actions[key, default: [:]][token] = action
            return first
        }
        if first {
            channel.closeFuture.whenComplete { [self] _ in
                let pending = actions.withLock { $0.removeValue(forKey: key) }
                for action in pending?.values ?? [:].values { action() }
            }
        }
        return token
    }

    /// Forgets the action of `token` (its request finished).
    func cancel(_ token: UInt64, of channel: any Channel) {
        _ = actions.withLock { $0[ObjectIdentifier(channel)]?.removeValue(forKey: token) }
    }
}
