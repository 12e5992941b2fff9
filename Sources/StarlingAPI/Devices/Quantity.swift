/// A Kubernetes resource quantity (`40Gi`, `80G`, `500m`, `1.5`, `2e3`), as DRA capacities and counters carry
/// them. Held as a Double of base units: exact for the integer byte and slice counts devices publish.
public struct Quantity: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, OpenAPISchemaProviding {
    public var value: Double
    /// The text it was written as, kept so objects round-trip unchanged.
    public var text: String

    static let binary: [String: Double] = [
        "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776, "Pi": 1_125_899_906_842_624,
        "Ei": 1_152_921_504_606_846_976,
    ]
    static let decimal: [String: Double] = [
        "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    ]

    /// Parses Kubernetes' quantity syntax; nil for anything else.
    public init?(_ text: String) {
        var digits = Substring(text)
        var sign = 1.0
        if let first = digits.first, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            digits = digits.dropFirst()
        }
        let numberEnd = digits.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? digits.endIndex
        let number = digits[..<numberEnd]
        let suffix = String(digits[numberEnd...])
        guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let base = Double(number)
        else { return nil }
        let scale: Double
        if let b = Self.binary[suffix] {
            scale = b
        } else if let d = Self.decimal[suffix] {
            scale = d
        } else if let e = suffix.first, e == "e" || e == "E", let exponent = Int(suffix.dropFirst()),
            abs(exponent) <= 30
        {
            scale = pow10(exponent)
        } else {
            return nil
        }
        value = sign * base * scale
        self.text = text
    }

    public init(_ value: Double) {
        self.value = value
        self.text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self.init(number)
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = Quantity(text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "\"\(text)\" is not a quantity (a number with an optional suffix: Ki, Mi, Gi, Ti, k, M, G, T, m, "
                    + "or an exponent such as e3)")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public static let openAPISchema: JSONValue = .object([
        "x-kubernetes-int-or-string": .bool(true),
        "anyOf": .array([.object(["type": .string("integer")]), .object(["type": .string("string")])]),
        "pattern": .string(
            #"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"#
        ),
    ])

    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    public static func == (a: Self, b: Self) -> Bool { a.value == b.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
    public var description: String { text }
}

private func pow10(_ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<abs(exponent) { result *= 10 }
    return exponent < 0 ? 1 / result : result
}
