import StarlingAPI

/// Server-side behaviour of one kind: where it lives and how its objects are checked and normalised.
public struct ResourceHandler: Sendable {
    public let descriptor: ResourceDescriptor
    /// Decodes the object as its typed form (rejecting unknown fields and invalid values) and encodes it back,
    /// so that stored objects are canonical.
    public let normalize: @Sendable (JSONValue) throws(ValidationError) -> JSONValue

    /// A handler for a typed kind.
    public init<T: KubernetesResource>(_ type: T.Type) {
        descriptor = T.descriptor
        normalize = { (value: JSONValue) throws(ValidationError) -> JSONValue in
            let object = try ObjectDecoding.decode(value, as: T.self)
            do {
                return try JSONValue(encoding: object)
            } catch {
                throw ValidationError(kind: T.descriptor.kind, name: "", errors: [FieldError("<root>", "\(error)")])
            }
        }
    }

    /// Storage key of the kind: `pods`, `modelservices.starling.dev`.
    public var resourceKey: String { descriptor.description }

    /// Handlers for every kind Starling serves.
    public static let all: [ResourceHandler] = ResourceTypes.all.map { makeHandler($0) }

    private static func makeHandler<T: KubernetesResource>(_ type: T.Type) -> ResourceHandler {
        ResourceHandler(type)
    }
}
