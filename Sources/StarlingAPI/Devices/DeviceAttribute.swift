/// A device attribute as `resource.k8s.io/v1` writes it: exactly one of `int`, `bool`, `string`, `version`.
public enum DeviceAttribute: Sendable, Hashable, Codable, CustomStringConvertible {
    case int(Int)
    case bool(Bool)
    case string(String)
    /// A semantic version, written as text (`"12.4.0"`).
    case version(String)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case int, bool, string, version
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let present = CodingKeys.allCases.filter { container.contains($0) }
        guard present.count == 1, let key = present.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "an attribute has exactly one of int, bool, string, version (got \(present.count))"))
        }
        switch key {
        case .int: self = .int(try container.decode(Int.self, forKey: .int))
        case .bool: self = .bool(try container.decode(Bool.self, forKey: .bool))
        case .string: self = .string(try container.decode(String.self, forKey: .string))
        case .version: self = .version(try container.decode(String.self, forKey: .version))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .int(let v): try container.encode(v, forKey: .int)
        case .bool(let v): try container.encode(v, forKey: .bool)
        case .string(let v): try container.encode(v, forKey: .string)
        case .version(let v): try container.encode(v, forKey: .version)
        }
    }

    public var description: String {
        switch self {
        case .int(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let v): v
        case .version(let v): v
        }
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
