import Logging
import StarlingAPI

/// Writes core v1 Events about objects, so `starling events` and `kubectl get events` show what happened.
public struct EventRecorder: Sendable {
    let client: KubeClient
    let component: String
    let logger: Logger

    public init(client: KubeClient, component: String, logger: Logger) {
        self.client = client
        self.component = component
        self.logger = logger
    }

    /// Records an event; failures are logged, never thrown, so that reporting cannot break reconciling.
    public func record<T: KubernetesResource>(
        _ object: T, type: String = "Normal", reason: String, message: String
    ) async {
        let now = Timestamp.now()
        var meta = ObjectMeta(namespace: object.metadata.namespace ?? WellKnown.defaultNamespace)
        meta.generateName = "\(object.metadata.nameOrEmpty)."
        let event = Event(
            metadata: meta, involvedObject: ObjectReference(object), reason: reason, message: message, type: type,
            component: component, now: now)
        do {
            _ = try await client.create(event)
        } catch {
            logger.debug("cannot record event", metadata: ["event.reason": "\(reason)", "error": "\(error)"])
        }
    }
}
