extension DeviceSelectorExpression {
    /// Why an expression has no value for a device.
    struct EvaluationError: Error, Equatable {
        var message: String
    }

    /// The expression's value for `device`.
    func evaluate(on device: SelectableDevice) -> Result<Value, EvaluationError> {
        Self.evaluate(root, device)
    }

    static func evaluate(_ node: Node, _ device: SelectableDevice) -> Result<Value, EvaluationError> {
        func fail(_ message: String) -> Result<Value, EvaluationError> { .failure(EvaluationError(message: message)) }
        switch node {
        case .device:
            return .success(.device)
        case .literal(let v):
            return .success(v)
        case .list(let items):
            var values: [Value] = []
            for item in items {
                switch evaluate(item, device) {
                case .success(let v): values.append(v)
                case .failure(let e): return .failure(e)
                }
            }
            return .success(.list(values))
        case .member(.index(.member(.device, let field), .literal(.string(let domain))), let name)
        where field == "attributes" || field == "capacity":
            // The common shape, `device.attributes["domain"].name`, looked up directly.
            if field == "attributes" {
                guard let attribute = device.attribute(domain: domain, name: name) else {
                    return fail("no attribute `\(name)` in \(domain)")
                }
                return .success(value(of: attribute))
            }
            guard let quantity = device.capacity(domain: domain, name: name) else {
                return fail("no capacity `\(name)` in \(domain)")
            }
            return .success(.quantity(quantity))
        case .member(let base, let name):
            switch evaluate(base, device) {
            case .success(.device):
                switch name {
                case "driver": return .success(.string(device.driver))
                default: return fail("`device.\(name)` is read with a domain: device.\(name)[\"domain\"]")
                }
            case .success(.map(let fields)):
                guard let v = fields[name] else { return fail("no attribute or capacity `\(name)`") }
                return .success(v)
            case .success(let other): return fail("\(typeName(other)) has no field `\(name)`")
            case .failure(let e): return .failure(e)
            }
        case .index(let base, let key):
            guard case .success(let k) = evaluate(key, device) else { return fail("the index has no value") }
            if case .member(.device, let field) = base {
                guard case .string(let domain) = k else { return fail("a domain is a string") }
                switch field {
                case "attributes":
                    return .success(.map(device.inDomain(device.attributes, domain).mapValues(value(of:))))
                case "capacity":
                    return .success(.map(device.inDomain(device.capacity, domain).mapValues { .quantity($0) }))
                default: return fail("`device.\(field)` cannot be indexed")
                }
            }
            switch (evaluate(base, device), k) {
            case (.success(.map(let fields)), .string(let name)):
                guard let v = fields[name] else { return fail("no attribute or capacity `\(name)`") }
                return .success(v)
            case (.success(.list(let items)), .int(let i)):
                guard items.indices.contains(i) else { return fail("index \(i) is out of range") }
                return .success(items[i])
            case (.failure(let e), _): return .failure(e)
            default: return fail("cannot index that value")
            }
        case .call(let receiver, let name, let arguments):
            guard let receiver else { return fail("unknown function `\(name)`") }
            let r = evaluate(receiver, device)
            let a = arguments.map { evaluate($0, device) }
            guard case .success(let target) = r else { return r }
            var values: [Value] = []
            for argument in a {
                guard case .success(let v) = argument else { return argument }
                values.append(v)
            }
            return call(name, on: target, values)
        case .not(let inner):
            guard case .success(.bool(let b)) = evaluate(inner, device) else { return fail("`!` needs a bool") }
            return .success(.bool(!b))
        case .and(let a, let b):
            // CEL's `&&` is false if either side is false, even when the other is an error.
            let (x, y) = (evaluate(a, device), evaluate(b, device))
            if case .success(.bool(false)) = x { return x }
            if case .success(.bool(false)) = y { return y }
            if case .success(.bool(true)) = x, case .success(.bool(true)) = y { return x }
            return fail("`&&` needs bools")
        case .or(let a, let b):
            let (x, y) = (evaluate(a, device), evaluate(b, device))
            if case .success(.bool(true)) = x { return x }
            if case .success(.bool(true)) = y { return y }
            if case .success(.bool(false)) = x, case .success(.bool(false)) = y { return x }
            return fail("`||` needs bools")
        case .compare(let comparison, let a, let b):
            guard case .success(let x) = evaluate(a, device), case .success(let y) = evaluate(b, device) else {
                return fail("a side of `\(comparison.rawValue)` has no value")
            }
            return compare(comparison, x, y).map { .success(.bool($0)) }
                ?? fail(
                    "`\(comparison.rawValue)` cannot compare \(typeName(x)) with \(typeName(y))")
        case .membership(let element, let container):
            guard case .success(let x) = evaluate(element, device), case .success(let c) = evaluate(container, device)
            else { return fail("a side of `in` has no value") }
            switch (x, c) {
            case (_, .list(let items)): return .success(.bool(items.contains { compare(.equal, x, $0) == true }))
            case (.string(let key), .map(let fields)): return .success(.bool(fields[key] != nil))
            default: return fail("`in` needs a list or a domain's map on its right")
            }
        }
    }

    static func value(of attribute: DeviceAttribute) -> Value {
        if let v = attribute.int { return .int(v) }
        if let v = attribute.bool { return .bool(v) }
        if let v = attribute.string { return .string(v) }
        // A version attribute that is not semver is still comparable as text with `==`.
        if let v = attribute.version { return SemanticVersion(v).map { .version($0) } ?? .string(v) }
        return .string("")
    }

    static func compare(_ c: Comparison, _ x: Value, _ y: Value) -> Bool? {
        func order<T: Comparable>(_ a: T, _ b: T) -> Bool {
            switch c {
            case .equal: a == b
            case .notEqual: a != b
            case .less: a < b
            case .lessOrEqual: a <= b
            case .greater: a > b
            case .greaterOrEqual: a >= b
            }
        }
        let equality = c == .equal || c == .notEqual
        switch (x, y) {
        case (.int(let a), .int(let b)): return order(a, b)
        case (.int(let a), .double(let b)): return order(Double(a), b)
        case (.double(let a), .int(let b)): return order(a, Double(b))
        case (.double(let a), .double(let b)): return order(a, b)
        case (.string(let a), .string(let b)): return order(a, b)
        case (.bool(let a), .bool(let b)) where equality: return (a == b) == (c == .equal)
        case (.version(let a), .version(let b)) where equality: return order(a, b)
        case (.quantity(let a), .quantity(let b)) where equality: return order(a, b)
        case (.list(let a), .list(let b)) where equality: return (a == b) == (c == .equal)
        default:
            // CEL's `==` between unlike types is an error, not false.
            return nil
        }
    }

    static func call(_ name: String, on target: Value, _ arguments: [Value]) -> Result<Value, EvaluationError> {
        func fail() -> Result<Value, EvaluationError> {
            .failure(EvaluationError(message: "\(typeName(target)) has no method `\(name)` for those arguments"))
        }
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a > b ? 1 : 0 }
        switch (target, name, arguments.first) {
        case (.quantity(let a), "compareTo", .quantity(let b)?): return .success(.int(sign(a, b)))
        case (.quantity(let a), "isGreaterThan", .quantity(let b)?): return .success(.bool(a > b))
        case (.quantity(let a), "isLessThan", .quantity(let b)?): return .success(.bool(a < b))
        case (.quantity(let a), "asInteger", nil):
            guard a.value == a.value.rounded(), abs(a.value) < 9.2e18 else { return fail() }
            return .success(.int(Int(a.value)))
        case (.version(let a), "compareTo", .version(let b)?): return .success(.int(sign(a, b)))
        case (.version(let a), "isGreaterThan", .version(let b)?): return .success(.bool(a > b))
        case (.version(let a), "isLessThan", .version(let b)?): return .success(.bool(a < b))
        case (.version(let a), "major", nil): return .success(.int(a.major))
        case (.version(let a), "minor", nil): return .success(.int(a.minor))
        case (.version(let a), "patch", nil): return .success(.int(a.patch))
        case (.string(let a), "startsWith", .string(let b)?): return .success(.bool(a.hasPrefix(b)))
        case (.string(let a), "endsWith", .string(let b)?): return .success(.bool(a.hasSuffix(b)))
        case (.string(let a), "contains", .string(let b)?): return .success(.bool(a.contains(b)))
        default: return fail()
        }
    }

    static func typeName(_ value: Value) -> String {
        switch value {
        case .int: "int"
        case .double: "double"
        case .bool: "bool"
        case .string: "string"
        case .version: "version"
        case .quantity: "quantity"
        case .list: "list"
        case .map: "map"
        case .device: "device"
        }
    }
}
