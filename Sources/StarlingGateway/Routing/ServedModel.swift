/// A model an endpoint lists in `/v1/models`: a base model, or a LoRA adapter with its base as parent.
public struct ServedModel: Sendable, Hashable {
    public var id: String
    /// The base model of an adapter; nil for a base model.
    public var parent: String?
    public var maxModelLength: Int?

    public init(id: String, parent: String? = nil, maxModelLength: Int? = nil) {
        self.id = id
        self.parent = parent
        self.maxModelLength = maxModelLength
    }
}
