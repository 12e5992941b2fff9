/// A device attribute as `resource.k8s.io/v1` writes it: exactly one of `int`, `bool`, `string`, `version`
/// (validation names an attribute with none or several).
public struct DeviceAttribute: Sendable, Hashable, Codable, CustomStringConvertible {
    public var int: Int?
    public var bool: Bool?
    public var string: String?
    /// A semantic version, written as text (`"12.4.0"`).
    public var version: String?

    public static func int(_ v: Int) -> Self { Self(int: v) }
    public static func bool(_ v: Bool) -> Self { Self(bool: v) }
    public static func string(_ v: String) -> Self { Self(string: v) }
    public static func version(_ v: String) -> Self { Self(version: v) }

    /// How many of the four values are set; valid attributes have one.
    var valueCount: Int { [int != nil, bool != nil, string != nil, version != nil].filter { $0 }.count }

    public var description: String {
        int.map(String.init) ?? bool.map(String.init) ?? string ?? version ?? ""
    }
}

/// What a selector sees of a device: its driver, its attributes and capacities by qualified name
/// (`domain/name`; a name without a domain belongs to the driver's).
public struct SelectableDevice: Sendable, Equatable {
    public var driver: String
    public var attributes: [String: DeviceAttribute]
    public var capacity: [String: Quantity]

    public init(driver: String, attributes: [String: DeviceAttribute] = [:], capacity: [String: Quantity] = [:]) {
        self.driver = driver
        self.attributes = attributes
        self.capacity = capacity
    }

    /// The attribute `name` of `domain`: `domain/name`, or `name` alone when the domain is the driver's.
    func attribute(domain: String, name: String) -> DeviceAttribute? {
        attributes["\(domain)/\(name)"] ?? (domain == driver ? attributes[name] : nil)
    }

    func capacity(domain: String, name: String) -> Quantity? {
        capacity["\(domain)/\(name)"] ?? (domain == driver ? capacity[name] : nil)
    }

    /// The attributes or capacities of one domain, by their names within it.
    func inDomain<Value>(_ values: [String: Value], _ domain: String) -> [String: Value] {
        var found: [String: Value] = [:]
        for (name, value) in values {
            if let slash = name.lastIndex(of: "/") {
                if name[..<slash] == domain { found[String(name[name.index(after: slash)...])] = value }
            } else if domain == driver {
                found[name] = value
            }
        }
        return found
    }
}
