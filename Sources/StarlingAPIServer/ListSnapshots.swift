import Foundation
import StarlingAPI

/// The rest of paged lists, so that every page of one list comes from the same moment, as kube-apiserver's pages
/// do (it reads them from etcd at the first page's revision). The first page of a list larger than its limit
/// stores what follows; a continue token names the snapshot, its resourceVersion and an offset. Snapshots live
/// five minutes (etcd's default compaction interval, after which kube-apiserver's tokens expire too) and are
/// bounded in number and bytes; a token whose snapshot is gone gets 410 Expired.
struct ListSnapshots {
    struct Snapshot {
        var resourceVersion: Int64
        var items: [Data]
        var created: ContinuousClock.Instant
        var bytes: Int
    }

    /// What a continue token carries.
    struct Token: Codable, Equatable {
        var rv: String
        var snapshot: String
        var offset: Int
    }

    static let lifetime: Duration = .seconds(300)
    static let maxSnapshots = 32
    static let maxBytes = 256 << 20

    private var snapshots: [String: Snapshot] = [:]
    private var order: [String] = []
    private var bytes = 0

    /// Stores `items` (what follows the first page) and returns the token for the next page.
    mutating func store(_ items: [Data], resourceVersion: Int64, now: ContinuousClock.Instant) -> String {
        expire(now: now)
        let id = UUID().uuidString.lowercased()
        let size = items.reduce(0) { $0 + $1.count }
        snapshots[id] = Snapshot(resourceVersion: resourceVersion, items: items, created: now, bytes: size)
        order.append(id)
        bytes += size
        while order.count > Self.maxSnapshots || (bytes > Self.maxBytes && order.count > 1) { evictOldest() }
        return Self.encode(Token(rv: String(resourceVersion), snapshot: id, offset: 0))
    }

    /// The page at `token`, its resourceVersion and the next token; 410 when the snapshot is gone.
    mutating func page(
        _ token: String, limit: Int?, now: ContinuousClock.Instant
    ) throws(Status) -> (
        items: [Data], resourceVersion: Int64, next: String?
    ) {
        expire(now: now)
        guard let decoded = Self.decode(token) else { throw Status.badRequest("continue: invalid continue token") }
        guard let snapshot = snapshots[decoded.snapshot] else {
            throw Status.gone(
                "The provided continue parameter is too old to display a consistent list result. You can start a new "
                    + "list without the continue parameter.")
        }
        let start = min(decoded.offset, snapshot.items.count)
        let end = limit.map { min(start + $0, snapshot.items.count) } ?? snapshot.items.count
        let next =
            end < snapshot.items.count
            ? Self.encode(Token(rv: decoded.rv, snapshot: decoded.snapshot, offset: end)) : nil
        if next == nil { drop(decoded.snapshot) }
        return (Array(snapshot.items[start..<end]), snapshot.resourceVersion, next)
    }

    static func encode(_ token: Token) -> String {
        ((try? JSONEncoder().encode(token)) ?? Data()).base64EncodedString()
    }

    static func decode(_ text: String) -> Token? {
        guard let data = Data(base64Encoded: text) else { return nil }
        return try? JSONDecoder().decode(Token.self, from: data)
    }

    private mutating func expire(now: ContinuousClock.Instant) {
        while let first = order.first, let snapshot = snapshots[first], now - snapshot.created > Self.lifetime {
            evictOldest()
        }
    }

    private mutating func evictOldest() {
        guard !order.isEmpty else { return }
        drop(order[0])
    }

    private mutating func drop(_ id: String) {
        guard let snapshot = snapshots.removeValue(forKey: id) else { return }
        bytes -= snapshot.bytes
        order.removeAll { $0 == id }
    }
}
