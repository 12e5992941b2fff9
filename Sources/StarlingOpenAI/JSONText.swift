/// Builds JSON text by hand for the hot streaming path, where an encoder per token would cost more than the rest
/// of the request.
public enum JSONText {
    /// `value` as a JSON string literal, quotes included.
    public static func string(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        appendEscaped(value, to: &out)
        return out + "\""
    }

    /// Appends `value` escaped as the contents of a JSON string (no quotes).
    public static func appendEscaped(_ value: String, to out: inout String) {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
    }
}
