import Foundation
import StarlingAPI

/// RFC 6902 JSON Patch (`add`, `remove`, `replace`, `move`, `copy`, `test`).
enum JSONPatch {
    struct PatchError: Error, CustomStringConvertible {
        var description: String
    }

    static func apply(_ patch: JSONValue, to document: JSONValue) throws -> JSONValue {
        guard let ops = patch.arrayValue else {
            throw PatchError(description: "a JSON patch must be an array of operations")
        }
        var doc = document
        for (i, op) in ops.enumerated() {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw PatchError(description: "operation \(i): \"op\" and \"path\" are required")
            }
            let tokens = try pointer(path)
            switch name {
            case "add":
                guard let value = op["value"] else {
                    throw PatchError(description: "operation \(i): \"value\" is required")
                }
                doc = try set(doc, tokens, value, insert: true)
            case "replace":
                guard let value = op["value"] else {
                    throw PatchError(description: "operation \(i): \"value\" is required")
                }
                _ = try get(doc, tokens)
                doc = try set(doc, tokens, value, insert: false)
            case "remove":
                doc = try remove(doc, tokens)
            case "move", "copy":
                guard let from = op["from"]?.stringValue else {
                    throw PatchError(description: "operation \(i): \"from\" is required")
                }
                let fromTokens = try pointer(from)
                let value = try get(doc, fromTokens)
                if name == "move" { doc = try remove(doc, fromTokens) }
                doc = try set(doc, tokens, value, insert: true)
            case "test":
                if try get(doc, tokens) != op["value"] {
                    throw PatchError(description: "operation \(i): test failed at \(path)")
                }
            default:
                throw PatchError(description: "operation \(i): unsupported op \"\(name)\"")
            }
        }
        return doc
    }

    static func pointer(_ path: String) throws -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw PatchError(description: "invalid JSON pointer \"\(path)\"") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ doc: JSONValue, _ tokens: [String]) throws -> JSONValue {
        var current = doc
        for t in tokens {
            switch current {
            case .object(let o):
                guard let v = o[t] else {
                    throw PatchError(description: "path not found: /\(tokens.joined(separator: "/"))")
                }
                current = v
            case .array(let a):
                guard let i = Int(t), a.indices.contains(i) else {
                    throw PatchError(description: "index out of range: /\(tokens.joined(separator: "/"))")
                }
                current = a[i]
            default:
                throw PatchError(description: "path not found: /\(tokens.joined(separator: "/"))")
            }
        }
        return current
    }

    static func set(_ doc: JSONValue, _ tokens: [String], _ value: JSONValue, insert: Bool) throws -> JSONValue {
        guard let first = tokens.first else { return value }
        let rest = Array(tokens.dropFirst())
        switch doc {
        case .object(var o):
            if rest.isEmpty {
                o[first] = value
            } else {
                guard let child = o[first] else { throw PatchError(description: "path not found: \(first)") }
                o[first] = try set(child, rest, value, insert: insert)
            }
            return .object(o)
        case .array(var a):
            if rest.isEmpty {
                if first == "-" {
                    a.append(value)
                } else if let i = Int(first), i >= 0, i <= a.count {
                    if insert {
                        a.insert(value, at: i)
                    } else if i < a.count {
                        a[i] = value
                    } else {
                        throw PatchError(description: "index out of range: \(i)")
                    }
                } else {
                    throw PatchError(description: "invalid array index \"\(first)\"")
                }
            } else {
                guard let i = Int(first), a.indices.contains(i) else {
                    throw PatchError(description: "invalid array index \"\(first)\"")
                }
                a[i] = try set(a[i], rest, value, insert: insert)
            }
            return .array(a)
        default:
            throw PatchError(description: "cannot add to a \(doc.typeName) at \"\(first)\"")
        }
    }

    static func remove(_ doc: JSONValue, _ tokens: [String]) throws -> JSONValue {
        guard let first = tokens.first else { throw PatchError(description: "cannot remove the whole document") }
        let rest = Array(tokens.dropFirst())
        switch doc {
        case .object(var o):
            guard let child = o[first] else { throw PatchError(description: "path not found: \(first)") }
            if rest.isEmpty { o.removeValue(forKey: first) } else { o[first] = try remove(child, rest) }
            return .object(o)
        case .array(var a):
            guard let i = Int(first), a.indices.contains(i) else {
                throw PatchError(description: "invalid array index \"\(first)\"")
            }
            if rest.isEmpty { a.remove(at: i) } else { a[i] = try remove(a[i], rest) }
            return .array(a)
        default:
            throw PatchError(description: "path not found: \(first)")
        }
    }
}
