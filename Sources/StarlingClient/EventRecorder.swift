import Foundation
import Logging
import StarlingAPI

/// Writes core v1 Events about objects, so `starling events` and `kubectl get events` show what happened.
///
/// Repeats are aggregated as kube's event correlator does: an event with the same object, type, reason and message
/// as one recorded in the last ten minutes bumps that Event's `count` and `lastTimestamp` instead of adding another,
/// so a crash loop shows as one line with a count, not hundreds.
public struct EventRecorder: Sendable {
    let client: any KubeAPI
    let component: String
    let logger: Logger
    let recent: RecentEvents

    /// The requests recording makes: new Events, and count bumps on repeats.
    public static let apiAccess: [APIAccess] = APIAccess.on(Event.descriptor, "create", "patch")

    public init(client: any KubeAPI, component: String, logger: Logger) {
        self.client = client
        self.component = component
        self.logger = logger
        self.recent = RecentEvents()
    }

    /// Records an event; failures are logged, never thrown, so that reporting cannot break reconciling.
    public func record<T: KubernetesResource>(
        _ object: T, type: String = "Normal", reason: String, message: String
    ) async {
        await record(ObjectReference(object), type: type, reason: reason, message: message)
    }

    /// Records an event about the object `reference` names (one that could not be decoded, for instance).
    public func record(_ reference: ObjectReference, type: String = "Normal", reason: String, message: String) async {
        let now = Timestamp.now()
        let namespace = reference.namespace ?? WellKnown.defaultNamespace
        let name = reference.name ?? ""
        let key = RecentEvents.Key(
            uid: reference.uid ?? "\(namespace)/\(name)", type: type, reason: reason, message: message)
        if let seen = await recent.repeatOf(key, now: Date()) {
            let patch: JSONValue = .object(["count": .int(Int64(seen.count)), "lastTimestamp": .string(now)])
            do {
                _ = try await client.patch(Event.self, namespace: namespace, name: seen.name, patch: patch)
                return
            } catch {
                // The Event is gone (expired or deleted): record it anew.
                await recent.forget(key)
            }
        }
        var meta = ObjectMeta(namespace: namespace)
        meta.generateName = "\(name)."
        let event = Event(
            metadata: meta, involvedObject: reference, reason: reason, message: message, type: type,
            component: component, now: now)
        do {
            let created = try await client.create(event)
            await recent.remember(key, name: created.metadata.nameOrEmpty, now: Date())
        } catch {
            logger.debug("cannot record event", metadata: ["event.reason": "\(reason)", "error": "\(error)"])
        }
    }
}

/// Events recorded lately, keyed by what makes two events the same; bounded in size and age.
actor RecentEvents {
    struct Key: Hashable {
        var uid: String
        var type: String
        var reason: String
        var message: String
    }

    struct Entry {
        var name: String
        var count: Int
        var first: Date
    }

    /// kube's correlator aggregates within ten minutes and remembers 4,096 keys.
    let window: TimeInterval = 600
    let capacity = 4096
    var entries: [Key: Entry] = [:]

    /// The event to bump for a repeat of `key`, with its new count; nil when `key` is new or too old.
    func repeatOf(_ key: Key, now: Date) -> (name: String, count: Int)? {
        guard var entry = entries[key], now.timeIntervalSince(entry.first) < window else {
            entries[key] = nil
            return nil
        }
        entry.count += 1
        entries[key] = entry
        return (entry.name, entry.count)
    }

    func remember(_ key: Key, name: String, now: Date) {
        if entries.count >= capacity {
            entries = entries.filter { now.timeIntervalSince($0.value.first) < window }
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.first < $1.value.first }) {
                entries[oldest.key] = nil
            }
        }
        entries[key] = Entry(name: name, count: 1, first: now)
    }

    func forget(_ key: Key) { entries[key] = nil }
}
