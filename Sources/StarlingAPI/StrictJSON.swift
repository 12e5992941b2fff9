/// What kube-apiserver's strict field validation rejects in a JSON body that a plain decoder lets through: the same
/// key twice in one object (a decoder keeps the last silently) and NUL characters in strings. Runs over the raw
/// bytes of a body that already parsed as JSON.
public enum StrictJSON {
    /// A problem found, with the field path it is at.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// The first problem in `bytes` (valid JSON), or nil.
    public static func firstProblem(in bytes: some Collection<UInt8>) -> Problem? {
        var scanner = Scanner(bytes: Array(bytes))
        return scanner.value(path: "")
    }

    struct Scanner {
        let bytes: [UInt8]
        var i = 0
        /// Depth at which scanning gives up rather than recurse further (the JSON already parsed; this bounds the
        /// stack for pathological nesting).
        static let maxDepth = 512

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func value(path: String, depth: Int = 0) -> Problem? {
            skipSpace()
            guard i < bytes.count, depth < Self.maxDepth else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var seen = Set<[UInt8]>()
                while true {
                    skipSpace()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: "}") {
                        i += 1
                        return nil
                    }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                        continue
                    }
                    let (key, hasNUL) = string()
                    let name = String(decoding: key, as: UTF8.self)
                    let child = path.isEmpty ? name : "\(path).\(name)"
                    if hasNUL { return Problem(path: child, message: "field names must not contain NUL characters") }
                    if !seen.insert(key).inserted {
                        return Problem(path: child, message: "duplicate field (strict decoding error)")
                    }
                    skipSpace()
                    if i < bytes.count, bytes[i] == UInt8(ascii: ":") { i += 1 }
                    if let problem = value(path: child, depth: depth + 1) { return problem }
                }
            case UInt8(ascii: "["):
                i += 1
                var index = 0
                while true {
                    skipSpace()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: "]") {
                        i += 1
                        return nil
                    }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                        index += 1
                        continue
                    }
                    if let problem = value(path: "\(path)[\(index)]", depth: depth + 1) { return problem }
                }
            case UInt8(ascii: "\""):
                let (_, hasNUL) = string()
                return hasNUL
                    ? Problem(path: path.isEmpty ? "<root>" : path, message: "strings must not contain NUL (\\u0000)")
                    : nil
            default:
                // A number, true, false or null.
                while i < bytes.count,
                    ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D]
                        .contains(bytes[i])
                {
                    i += 1
                }
                return nil
            }
        }

        /// Reads a string at `i` (on its opening quote): its unescaped bytes and whether it holds a NUL.
        mutating func string() -> ([UInt8], Bool) {
            var out: [UInt8] = []
            var hasNUL = false
            i += 1
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b == UInt8(ascii: "\"") { break }
                if b == 0 { hasNUL = true }
                guard b == UInt8(ascii: "\\"), i < bytes.count else {
                    out.append(b)
                    continue
                }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count,
                        let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16)
                    else { continue }
                    i += 4
                    if code == 0 { hasNUL = true }
                    // Surrogate pairs are kept as their escapes: two spellings of one key are rare enough.
                    if let scalar = Unicode.Scalar(code) {
                        out += Array(String(Character(scalar)).utf8)
                    } else {
                        out += Array("\\u\(String(code, radix: 16))".utf8)
                    }
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                default: out.append(e)
                }
            }
            return (out, hasNUL)
        }
    }
}
