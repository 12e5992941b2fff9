/// A parsed field selector (`metadata.name=x,spec.nodeName!=`) over the fields a kind supports.
public struct FieldSelector: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        public var field: String
        public var value: String
        public var negated: Bool
    }

    public var terms: [Term]

    public init(terms: [Term]) { self.terms = terms }

    /// Fields every kind can be selected by.
    public static let commonFields = ["metadata.name", "metadata.namespace"]
    /// Extra fields per kind.
    public static let kindFields: [String: [String]] = [
        "Pod": ["spec.nodeName", "status.phase", "spec.schedulerName"],
        "Event": ["involvedObject.name", "involvedObject.kind", "involvedObject.uid", "reason", "type"],
    ]

    /// Parses `text`, accepting only fields `kind` supports.
    public static func parse(_ text: String, kind: String) throws(FieldError) -> FieldSelector {
        let allowed = commonFields + (kindFields[kind] ?? [])
        var terms: [Term] = []
        for part in text.split(separator: ",") {
            let p = String(part)
            let (field, value, negated): (String, String, Bool)
            if let r = p.range(of: "!=") {
                (field, value, negated) = (String(p[..<r.lowerBound]), String(p[r.upperBound...]), true)
            } else if let r = p.range(of: "==") {
                (field, value, negated) = (String(p[..<r.lowerBound]), String(p[r.upperBound...]), false)
            } else if let r = p.range(of: "=") {
                (field, value, negated) = (String(p[..<r.lowerBound]), String(p[r.upperBound...]), false)
            } else {
                throw FieldError("fieldSelector", "invalid selector \"\(p)\": expected field=value or field!=value")
            }
            guard allowed.contains(field) else {
                throw FieldError(
                    "fieldSelector",
                    "field label not supported: \(field) (supported for \(kind): \(allowed.joined(separator: ", ")))")
            }
            terms.append(Term(field: field, value: value, negated: negated))
        }
        return FieldSelector(terms: terms)
    }

    /// Whether the object (as JSON) matches every term. A missing field counts as the empty string.
    public func matches(_ object: JSONValue) -> Bool {
        terms.allSatisfy { term in
            let actual = object.value(atPath: term.field)?.stringValue ?? ""
            return (actual == term.value) != term.negated
        }
    }
}
