/// The endpoint each session went to last, for session affinity. Bounded: beyond `capacity` sessions the
/// oldest first seen is forgotten.
public struct SessionTable: Sendable {
    public let capacity: Int
    private var endpoints: [String: String] = [:]
    private var order: [String] = []
    private var next = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "session table capacity must be positive")
        self.capacity = capacity
    }

    public subscript(session: String) -> String? { endpoints[session] }

    public mutating func record(_ session: String, endpoint: String) {
        if endpoints.updateValue(endpoint, forKey: session) != nil { return }
        if order.count < capacity {
            order.append(session)
        } else {
            endpoints[order[next]] = nil
            order[next] = session
            next = (next + 1) % capacity
        }
    }
}
