extension DeviceSelectorExpression {
    enum Token: Equatable {
        case identifier(String)
        case int(Int)
        case double(Double)
        case string(String)
        case symbol(String)
        case end
    }

    /// A recursive-descent parser over CEL's precedence: `||` < `&&` < relations (`==` … `in`) < `!` and unary
    /// `-` < member access, indexing and calls.
    struct Parser {
        let characters: [Character]
        var position = 0
        var token: Token = .end
        var tokenStart = 0

        /// Functions and methods the subset evaluates, with their argument counts.
        static let functions = ["quantity": 1, "semver": 1]
        static let methods = [
            "compareTo": 1, "isGreaterThan": 1, "isLessThan": 1, "asInteger": 0, "startsWith": 1, "endsWith": 1,
            "contains": 1, "major": 0, "minor": 0, "patch": 0,
        ]
        static let deviceFields = ["driver", "attributes", "capacity"]

        init(_ source: String) { characters = Array(source) }

        mutating func parseWhole() throws(DeviceSelectorSyntaxError) -> Node {
            try advance()
            if token == .end { throw fail("the expression is empty") }
            let node = try parseOr()
            guard token == .end else { throw unexpected() }
            if let type = Self.staticType(node), type != "bool" {
                throw DeviceSelectorSyntaxError(offset: 0, message: "the expression yields a \(type), not a bool")
            }
            return node
        }

        mutating func parseOr() throws(DeviceSelectorSyntaxError) -> Node {
            var left = try parseAnd()
            while token == .symbol("||") {
                try advance()
                left = .or(left, try parseAnd())
            }
            return left
        }

        mutating func parseAnd() throws(DeviceSelectorSyntaxError) -> Node {
            var left = try parseRelation()
            while token == .symbol("&&") {
                try advance()
                left = .and(left, try parseRelation())
            }
            return left
        }

        mutating func parseRelation() throws(DeviceSelectorSyntaxError) -> Node {
            let left = try parseUnary()
            if case .symbol(let s) = token, let comparison = Comparison(rawValue: s) {
                let at = tokenStart
                try advance()
                let right = try parseUnary()
                try checkComparable(comparison, left, right, at: at)
                return .compare(comparison, left, right)
            }
            if token == .identifier("in") {
                try advance()
                return .membership(left, in: try parseUnary())
            }
            return left
        }

        mutating func parseUnary() throws(DeviceSelectorSyntaxError) -> Node {
            if token == .symbol("!") {
                try advance()
                return .not(try parseUnary())
            }
            if token == .symbol("-") {
                try advance()
                switch token {
                case .int(let v):
                    try advance()
                    return .literal(.int(-v))
                case .double(let v):
                    try advance()
                    return .literal(.double(-v))
                default: throw fail("unsupported `-`: arithmetic is outside the selector subset; only negative numbers")
                }
            }
            return try parsePostfix(try parsePrimary())
        }

        mutating func parsePrimary() throws(DeviceSelectorSyntaxError) -> Node {
            let start = tokenStart
            switch token {
            case .int(let v):
                try advance()
                return .literal(.int(v))
            case .double(let v):
                try advance()
                return .literal(.double(v))
            case .string(let s):
                try advance()
                return .literal(.string(s))
            case .symbol("("):
                try advance()
                let inner = try parseOr()
                try expect(")")
                return inner
            case .symbol("["):
                try advance()
                var items: [Node] = []
                if token != .symbol("]") {
                    items.append(try parseOr())
                    while token == .symbol(",") {
                        try advance()
                        items.append(try parseOr())
                    }
                }
                try expect("]")
                return .list(items)
            case .identifier("true"):
                try advance()
                return .literal(.bool(true))
            case .identifier("false"):
                try advance()
                return .literal(.bool(false))
            case .identifier("device"):
                try advance()
                return .device
            case .identifier(let name):
                try advance()
                guard token == .symbol("(") else {
                    throw DeviceSelectorSyntaxError(
                        offset: start, message: "unknown name `\(name)`: a selector reads only `device`")
                }
                guard let arity = Self.functions[name] else {
                    throw DeviceSelectorSyntaxError(
                        offset: start,
                        message:
                            "unsupported function `\(name)`: the selector subset has "
                            + Self.functions.keys.sorted().joined(separator: ", "))
                }
                let arguments = try parseArguments(name, arity: arity, at: start)
                guard case .literal(.string(let text)) = arguments[0] else {
                    throw DeviceSelectorSyntaxError(offset: start, message: "`\(name)` takes a string literal")
                }
                if name == "quantity" {
                    guard let q = Quantity(text) else {
                        throw DeviceSelectorSyntaxError(offset: start, message: "\"\(text)\" is not a quantity")
                    }
                    return .literal(.quantity(q))
                }
                guard let v = SemanticVersion(text) else {
                    throw DeviceSelectorSyntaxError(
                        offset: start, message: "\"\(text)\" is not a semantic version (MAJOR.MINOR.PATCH)")
                }
                return .literal(.version(v))
            default:
                throw unexpected()
            }
        }

        mutating func parsePostfix(_ base: Node) throws(DeviceSelectorSyntaxError) -> Node {
            var node = base
            while true {
                if token == .symbol(".") {
                    try advance()
                    let start = tokenStart
                    guard case .identifier(let name) = token else { throw unexpected() }
                    try advance()
                    if token == .symbol("(") {
                        guard let arity = Self.methods[name] else {
                            throw DeviceSelectorSyntaxError(
                                offset: start,
                                message:
                                    "unsupported method `\(name)`: the selector subset has "
                                    + Self.methods.keys.sorted().joined(separator: ", "))
                        }
                        node = .call(
                            receiver: node, name: name, arguments: try parseArguments(name, arity: arity, at: start))
                    } else {
                        if node == .device && !Self.deviceFields.contains(name) {
                            throw DeviceSelectorSyntaxError(
                                offset: start,
                                message: "`device` has no field `\(name)` (it has driver, attributes, capacity)")
                        }
                        node = .member(node, name)
                    }
                } else if token == .symbol("[") {
                    try advance()
                    let key = try parseOr()
                    try expect("]")
                    node = .index(node, key)
                } else {
                    return node
                }
            }
        }

        mutating func parseArguments(
            _ name: String, arity: Int, at start: Int
        ) throws(DeviceSelectorSyntaxError)
            -> [Node]
        {
            try expect("(")
            var arguments: [Node] = []
            if token != .symbol(")") {
                arguments.append(try parseOr())
                while token == .symbol(",") {
                    try advance()
                    arguments.append(try parseOr())
                }
            }
            try expect(")")
            guard arguments.count == arity else {
                throw DeviceSelectorSyntaxError(
                    offset: start, message: "`\(name)` takes \(arity) argument\(arity == 1 ? "" : "s")")
            }
            return arguments
        }

        /// Refuses comparisons CEL refuses whose types are known before any device: `<` on versions or
        /// quantities (they have `compareTo`), and unlike literal types.
        func checkComparable(_ c: Comparison, _ a: Node, _ b: Node, at: Int) throws(DeviceSelectorSyntaxError) {
            let types = [Self.staticType(a), Self.staticType(b)]
            if c != .equal && c != .notEqual,
                let opaque = types.compactMap({ $0 }).first(where: { $0 == "version" || $0 == "quantity" })
            {
                throw DeviceSelectorSyntaxError(
                    offset: at,
                    message: "`\(c.rawValue)` does not order a \(opaque): use compareTo, isGreaterThan or isLessThan")
            }
            if let x = types[0], let y = types[1], x != y, !(Set([x, y]) == ["int", "double"]) {
                throw DeviceSelectorSyntaxError(
                    offset: at,
                    message: "`\(c.rawValue)` cannot compare \(Self.article(x)) \(x) with \(Self.article(y)) \(y)")
            }
        }

        static func article(_ type: String) -> String { type.first.map { "aeiou".contains($0) } == true ? "an" : "a" }

        /// The type a node has whatever the device, when that is known.
        static func staticType(_ node: Node) -> String? {
            switch node {
            case .literal(.int): "int"
            case .literal(.double): "double"
            case .literal(.bool), .not, .and, .or, .compare, .membership: "bool"
            case .literal(.string): "string"
            case .literal(.version): "version"
            case .literal(.quantity): "quantity"
            case .list: "list"
            case .member(.device, "driver"): "string"
            case .member(.index(.member(.device, "capacity"), _), _): "quantity"
            case .call(_, let name, _):
                switch name {
                case "compareTo", "asInteger", "major", "minor", "patch": "int"
                default: "bool"
                }
            default: nil
            }
        }

        mutating func expect(_ symbol: String) throws(DeviceSelectorSyntaxError) {
            guard token == .symbol(symbol) else { throw unexpected(expecting: symbol) }
            try advance()
        }

        func fail(_ message: String) -> DeviceSelectorSyntaxError {
            DeviceSelectorSyntaxError(offset: tokenStart, message: message)
        }

        func unexpected(expecting: String? = nil) -> DeviceSelectorSyntaxError {
            let found: String
            switch token {
            case .end: found = "the end of the expression"
            case .identifier(let s): found = "`\(s)`"
            case .int(let v): found = "`\(v)`"
            case .double(let v): found = "`\(v)`"
            case .string(let s): found = "\"\(s)\""
            case .symbol(let s): found = "`\(s)`"
            }
            return fail("unexpected \(found)" + (expecting.map { ", expecting `\($0)`" } ?? ""))
        }

        // MARK: Lexing

        mutating func advance() throws(DeviceSelectorSyntaxError) {
            while position < characters.count, characters[position].isWhitespace { position += 1 }
            tokenStart = position
            guard position < characters.count else {
                token = .end
                return
            }
            let c = characters[position]
            if c.isLetter || c == "_" {
                var name = ""
                while position < characters.count,
                    characters[position].isLetter || characters[position].isNumber || characters[position] == "_"
                {
                    name.append(characters[position])
                    position += 1
                }
                // After a `.` a name is a field or a method, which the parser checks; alone, these are CEL's macros
                // and functions outside the subset.
                let afterDot = characters[..<tokenStart].last { !$0.isWhitespace } == "."
                if !afterDot && ["all", "exists", "exists_one", "map", "filter", "has", "null", "size"].contains(name) {
                    throw DeviceSelectorSyntaxError(
                        offset: tokenStart, message: "unsupported `\(name)`: outside the selector subset")
                }
                token = .identifier(name)
            } else if c.isASCII && c.isNumber {
                var text = ""
                while position < characters.count,
                    characters[position].isASCII
                        && (characters[position].isNumber || characters[position] == "."
                            || characters[position] == "e" || characters[position] == "E")
                {
                    // A `.` not followed by a digit ends the number (`1.method` is not used, but stay exact).
                    if characters[position] == ".",
                        !(position + 1 < characters.count && characters[position + 1].isNumber)
                    {
                        break
                    }
                    text.append(characters[position])
                    position += 1
                }
                if let v = Int(text) {
                    token = .int(v)
                } else if let v = Double(text) {
                    token = .double(v)
                } else {
                    throw fail("`\(text)` is not a number")
                }
            } else if c == "\"" || c == "'" {
                position += 1
                var text = ""
                while true {
                    guard position < characters.count else { throw fail("a string is not closed") }
                    let ch = characters[position]
                    position += 1
                    if ch == c { break }
                    if ch == "\\" {
                        guard position < characters.count else { throw fail("a string is not closed") }
                        let escaped = characters[position]
                        position += 1
                        switch escaped {
                        case "n": text.append("\n")
                        case "t": text.append("\t")
                        case "\\", "\"", "'": text.append(escaped)
                        default: throw fail("unsupported escape `\\\(escaped)` in a string")
                        }
                    } else {
                        text.append(ch)
                    }
                }
                token = .string(text)
            } else {
                let two = position + 1 < characters.count ? String([c, characters[position + 1]]) : ""
                if ["&&", "||", "==", "!=", "<=", ">="].contains(two) {
                    position += 2
                    token = .symbol(two)
                } else if "()[].,!<>-".contains(c) {
                    position += 1
                    token = .symbol(String(c))
                } else {
                    let what =
                        "+*/%".contains(c)
                        ? "arithmetic" : c == "?" || c == ":" ? "the conditional operator" : "this character"
                    throw fail("unsupported `\(c)`: \(what) is outside the selector subset")
                }
            }
        }
    }
}
