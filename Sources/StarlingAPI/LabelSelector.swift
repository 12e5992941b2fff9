import Foundation

/// A parsed Kubernetes label selector (`app=x,tier!=y,env in (a,b),!legacy`).
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)

        func matches(_ labels: [String: String]) -> Bool {
            switch self {
            case .equals(let k, let v): return labels[k] == v
            case .notEquals(let k, let v): return labels[k] != v
            case .isIn(let k, let vs): return labels[k].map(vs.contains) ?? false
            case .notIn(let k, let vs): return !(labels[k].map(vs.contains) ?? false)
            case .exists(let k): return labels[k] != nil
            case .doesNotExist(let k): return labels[k] == nil
            }
        }
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// A selector that matches every label in `labels` exactly.
    public init(matching labels: [String: String]) {
        requirements = labels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]?) -> Bool {
        let labels = labels ?? [:]
        return requirements.allSatisfy { $0.matches(labels) }
    }

    public var description: String {
        requirements.map { r -> String in
            switch r {
            case .equals(let k, let v): return "\(k)=\(v)"
            case .notEquals(let k, let v): return "\(k)!=\(v)"
            case .isIn(let k, let vs): return "\(k) in (\(vs.sorted().joined(separator: ",")))"
            case .notIn(let k, let vs): return "\(k) notin (\(vs.sorted().joined(separator: ",")))"
            case .exists(let k): return k
            case .doesNotExist(let k): return "!\(k)"
            }
        }.joined(separator: ",")
    }

    /// Parses the query-string form. Throws a message naming what is wrong.
    public static func parse(_ text: String) throws(FieldError) -> LabelSelector {
        var requirements: [Requirement] = []
        for raw in splitTopLevel(text) {
            let part = raw.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            if let r = try parseRequirement(part) { requirements.append(r) }
        }
        return LabelSelector(requirements: requirements)
    }

    private static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for ch in text {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if ch == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        parts.append(current)
        return parts
    }

    private static func parseRequirement(_ part: String) throws(FieldError) -> Requirement? {
        func checkKey(_ k: String) throws(FieldError) -> String {
            let key = k.trimmingCharacters(in: .whitespaces)
            let ok = !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
            if !ok { throw FieldError("labelSelector", "invalid label key \"\(key)\" in \"\(part)\"") }
            return key
        }
        for (op, make) in [
            ("!=", { (k: String, v: String) in Requirement.notEquals(k, v) }),
            ("==", { (k: String, v: String) in Requirement.equals(k, v) }),
            ("=", { (k: String, v: String) in Requirement.equals(k, v) }),
        ] {
            if let range = part.range(of: op) {
                let key = try checkKey(String(part[..<range.lowerBound]))
                let value = String(part[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                return make(key, value)
            }
        }
        for (word, notIn) in [(" notin ", true), (" in ", false)] {
            if let range = part.range(of: word) {
                let key = try checkKey(String(part[..<range.lowerBound]))
                var rest = String(part[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                guard rest.hasPrefix("("), rest.hasSuffix(")") else {
                    throw FieldError("labelSelector", "expected a parenthesised value list in \"\(part)\"")
                }
                rest.removeFirst()
                rest.removeLast()
                let values = Set(rest.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                return notIn ? .notIn(key, values) : .isIn(key, values)
            }
        }
        if part.hasPrefix("!") { return .doesNotExist(try checkKey(String(part.dropFirst()))) }
        return .exists(try checkKey(part))
    }
}
