import StarlingAPI

/// An object the API server holds that this build cannot decode (a newer or older version of the kind, or a
/// cluster whose CRD schema allows what Starling's types do not): reported instead of failing the whole list or
/// watch, so one bad object cannot stall a controller.
public struct UndecodableObject: Sendable, Equatable, CustomStringConvertible {
    /// Its namespace and name.
    public var key: ObjectKey
    /// Its uid, when its metadata could be read.
    public var uid: String?
    /// Its resourceVersion, when its metadata could be read.
    public var resourceVersion: String?
    /// What the decoder said, with the field path.
    public var error: String
    /// Whether the watch reported it deleted.
    public var deleted: Bool

    public var description: String { "\(key): \(error)" }

    /// From an object's raw JSON and the decoding error.
    public init(_ raw: JSONValue, error: any Error, deleted: Bool = false) {
        key = ObjectKey(
            namespace: raw.value(atPath: "metadata.namespace")?.stringValue,
            name: raw.value(atPath: "metadata.name")?.stringValue ?? "")
        uid = raw.value(atPath: "metadata.uid")?.stringValue
        resourceVersion = raw.value(atPath: "metadata.resourceVersion")?.stringValue
        if let decoding = error as? DecodingError {
            self.error = ObjectDecoding.fieldError(from: decoding).description
        } else {
            self.error = "\(error)"
        }
        self.deleted = deleted
    }
}
