import Synchronization

/// LoRA adapters the server knows (vLLM's dynamically loaded adapters): name to path, in load order.
final class LoRARegistry: Sendable {
    private let adapters: Mutex<[(name: String, path: String)]>

    init(_ initial: [(name: String, path: String)]) { adapters = Mutex(initial) }

    var all: [(name: String, path: String)] { adapters.withLock { $0 } }

    func contains(_ name: String) -> Bool { adapters.withLock { $0.contains { $0.name == name } } }

    /// Adds an adapter; false if the name is taken.
    func load(name: String, path: String) -> Bool {
        adapters.withLock { list in
            if list.contains(where: { $0.name == name }) { return false }
            list.append((name, path))
            return true
        }
    }

    /// Removes an adapter; false if it is not loaded.
    func unload(name: String) -> Bool {
        adapters.withLock { list in
            guard let index = list.firstIndex(where: { $0.name == name }) else { return false }
            list.remove(at: index)
            return true
        }
    }
}
