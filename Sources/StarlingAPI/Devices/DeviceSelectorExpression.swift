/// A device selector's CEL expression (`device.attributes["gpu.nvidia.com"].productName == "H100"`), parsed into
/// the subset of CEL that DRA device selection uses in practice, and evaluated against a device by Starling:
///
/// - `device.driver`, `device.attributes["domain"].name`, `device.capacity["domain"].name`;
/// - string, integer, float, bool and list literals; `quantity("40Gi")`, `semver("12.4.0")`;
/// - `==`, `!=`, `<`, `<=`, `>`, `>=` on numbers and strings (versions and quantities: `==`, `!=` and
///   `compareTo`, `isGreaterThan`, `isLessThan`, as Kubernetes' CEL library has them);
/// - `&&`, `||`, `!`, parentheses; `x in [list]` and `"name" in device.attributes["domain"]`;
/// - strings' `startsWith`, `endsWith`, `contains`; quantities' `asInteger()`; versions' `major()`, `minor()`,
///   `patch()`.
///
/// Anything else (arithmetic, `?:`, macros such as `all`, regular expressions) is refused when parsed, naming the
/// part. A device for which the expression fails at run time (an attribute it lacks, a comparison of unlike types)
/// is not selected, as the `&&`/`||` of CEL absorb errors when the other side decides.
public struct DeviceSelectorExpression: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    let root: Node

    indirect enum Node: Sendable, Equatable {
        case device
        case literal(Value)
        case list([Node])
        case member(Node, String)
        case index(Node, Node)
        case call(receiver: Node?, name: String, arguments: [Node])
        case not(Node)
        case and(Node, Node)
        case or(Node, Node)
        case compare(Comparison, Node, Node)
        case membership(Node, in: Node)
    }

    enum Comparison: String, Sendable, Equatable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    /// What an expression yields.
    enum Value: Sendable, Equatable {
        case int(Int)
        case double(Double)
        case bool(Bool)
        case string(String)
        case version(SemanticVersion)
        case quantity(Quantity)
        case list([Value])
        /// A domain's attributes or capacities, by name.
        case map([String: Value])
        case device
    }

    /// Parses `source`, or throws naming the part outside the subset and where it is.
    public init(_ source: String) throws(DeviceSelectorSyntaxError) {
        var parser = Parser(source)
        root = try parser.parseWhole()
        self.source = source
    }

    public var description: String { source }

    /// Whether the device is selected: the expression is true for it. An evaluation error is not a match.
    public func matches(_ device: SelectableDevice) -> Bool {
        if case .success(.bool(true)) = evaluate(on: device) { return true }
        return false
    }
}

/// Where a selector leaves the supported subset of CEL, and how.
public struct DeviceSelectorSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Offset of the offending part in characters, from 0.
    public var offset: Int
    public var message: String

    public var description: String { "\(message) at column \(offset + 1)" }
}
