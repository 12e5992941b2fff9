import StarlingAPI

/// Checks a JSON text in one pass (RFC 8259: grammar, UTF-8, nesting up to `maxDepth`) and notes where each
/// member of its top-level object lies, without building values: the gateway reads a few fields of a request
/// body and forwards every byte as the client sent it.
struct JSONMembers {
    enum Kind: Equatable {
        case string, number, bool, null, object, array
    }

    /// Where a top-level member's value lies in the text, and what it is.
    struct Member {
        var kind: Kind
        /// The value's bytes; for a string, with its quotes.
        var range: Range<Int>
        /// For a string: no escapes inside, so its contents are its UTF-8 bytes as they stand.
        var isPlain = false

        /// A string's contents, between the quotes.
        var contents: Range<Int> { (range.lowerBound + 1)..<(range.upperBound - 1) }
    }

    /// Why a text is not JSON: what was found and where (the message gives the byte offset).
    struct Malformed: Error, Equatable {
        var message: String
    }

    static let maxDepth = 512

    /// Whether the top-level value is an object.
    private(set) var isObject = false
    /// The top-level object's members (the last one of a repeated name, as JSON parsers keep).
    private(set) var members: [String: Member] = [:]

    init(_ bytes: UnsafeRawBufferPointer) throws(Malformed) {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        if parser.peek == UInt8(ascii: "{") {
            isObject = true
            members = try parser.object(depth: 1, record: true)
        } else {
            _ = try parser.value(depth: 1)
        }
        parser.skipSpace()
        if parser.i < bytes.count { throw parser.unexpected("after the top-level value") }
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        func unexpected(_ context: String) -> Malformed {
            guard i < bytes.count else { return Malformed(message: "unexpected end of text \(context)") }
            let byte = bytes[i]
            let shown = (0x20..<0x7F).contains(byte) ? "'\(Character(UnicodeScalar(byte)))'" : "byte 0x\(hex(byte))"
            return Malformed(message: "unexpected \(shown) at offset \(i) \(context)")
        }

        private func hex(_ byte: UInt8) -> String {
            let digits = Array("0123456789ABCDEF")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }

        mutating func expect(_ byte: UInt8, _ context: String) throws(Malformed) {
            guard peek == byte else { throw unexpected(context) }
            i += 1
        }

        /// Checks an object; with `record`, notes its members.
        mutating func object(depth: Int, record: Bool) throws(Malformed) -> [String: Member] {
            var members: [String: Member] = [:]
            i += 1
            skipSpace()
            if peek == UInt8(ascii: "}") {
                i += 1
                return members
            }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw unexpected("where a member name should start") }
                let nameStart = i
                let plainName = try string()
                let name = Member(kind: .string, range: nameStart..<i, isPlain: plainName)
                skipSpace()
                try expect(UInt8(ascii: ":"), "after a member name")
                skipSpace()
                let start = i
                let (kind, isPlain) = try value(depth: depth + 1)
                if record {
                    members[JSONMembers.string(name, in: bytes)] = Member(
                        kind: kind, range: start..<i, isPlain: isPlain)
                }
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                try expect(UInt8(ascii: "}"), "where ',' or '}' should follow a member")
                return members
            }
        }

        /// Checks one value; for strings, also whether they are free of escapes.
        mutating func value(depth: Int) throws(Malformed) -> (Kind, Bool) {
            guard depth <= JSONMembers.maxDepth else {
                throw Malformed(message: "nested deeper than \(JSONMembers.maxDepth) levels")
            }
            guard let byte = peek else { throw unexpected("where a value should start") }
            switch byte {
            case UInt8(ascii: "\""):
                return (.string, try string())
            case UInt8(ascii: "{"):
                _ = try object(depth: depth, record: false)
                return (.object, false)
            case UInt8(ascii: "["):
                i += 1
                skipSpace()
                if peek == UInt8(ascii: "]") {
                    i += 1
                    return (.array, false)
                }
                while true {
                    skipSpace()
                    _ = try value(depth: depth + 1)
                    skipSpace()
                    if peek == UInt8(ascii: ",") {
                        i += 1
                        continue
                    }
                    try expect(UInt8(ascii: "]"), "where ',' or ']' should follow an element")
                    return (.array, false)
                }
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"):
                try literal("null")
                return (.null, false)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try number()
                return (.number, false)
            default:
                throw unexpected("where a value should start")
            }
            return (.bool, false)
        }

        mutating func literal(_ word: StaticString) throws(Malformed) {
            let start = i
            for expected in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
                guard peek == expected else {
                    throw Malformed(message: "invalid literal at offset \(start) (expected \(word))")
                }
                i += 1
            }
        }

        mutating func number() throws(Malformed) {
            if peek == UInt8(ascii: "-") { i += 1 }
            if peek == UInt8(ascii: "0") {
                i += 1
            } else {
                guard try digits() > 0 else { throw unexpected("in a number") }
            }
            if peek == UInt8(ascii: ".") {
                i += 1
                guard try digits() > 0 else { throw unexpected("after a decimal point") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard try digits() > 0 else { throw unexpected("in an exponent") }
            }
        }

        mutating func digits() throws(Malformed) -> Int {
            let start = i
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { i += 1 }
            return i - start
        }

        /// Checks a string from its opening quote to just past its closing one; true when it has no escapes.
        mutating func string() throws(Malformed) -> Bool {
            let start = i
            i += 1
            var plain = true
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case UInt8(ascii: "\""):
                    i += 1
                    return plain
                case UInt8(ascii: "\\"):
                    plain = false
                    i += 1
                    guard let escaped = peek else { break }
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        i += 1
                    case UInt8(ascii: "u"):
                        i += 1
                        for _ in 0..<4 {
                            guard let digit = peek, Self.isHex(digit) else { throw unexpected("in a \\u escape") }
                            i += 1
                        }
                    default:
                        throw unexpected("after a backslash in a string")
                    }
                case 0..<0x20:
                    throw unexpected("in a string (control characters must be escaped)")
                case 0..<0x80:
                    i += 1
                default:
                    try utf8Sequence()
                }
            }
            throw Malformed(message: "unterminated string starting at offset \(start)")
        }

        var invalidUTF8: Malformed { Malformed(message: "invalid UTF-8 at offset \(i)") }

        /// Checks one multi-byte UTF-8 sequence (no overlong forms, surrogates or values past U+10FFFF).
        mutating func utf8Sequence() throws(Malformed) {
            let lead = bytes[i]
            let count: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: count = 1
            case 0xE0:
                count = 2
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: count = 2
            case 0xED:
                count = 2
                high = 0x9F
            case 0xF0:
                count = 3
                low = 0x90
            case 0xF1...0xF3: count = 3
            case 0xF4:
                count = 3
                high = 0x8F
            default:
                throw invalidUTF8
            }
            for k in 1...count {
                let index = i + k
                guard index < bytes.count else { throw invalidUTF8 }
                let byte = bytes[index]
                let (from, to) = k == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                guard byte >= from, byte <= to else {
                    throw invalidUTF8
                }
            }
            i += count + 1
        }

        static func isHex(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                UInt8(ascii: "A")...UInt8(ascii: "F"):
                true
            default: false
            }
        }
    }

    /// A string member's contents, escapes resolved.
    static func string(_ member: Member, in bytes: UnsafeRawBufferPointer) -> String {
        guard !member.isPlain else {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.contents]), as: UTF8.self)
        }
        return JSONString.decode(UnsafeRawBufferPointer(rebasing: bytes[member.range]), from: 1).text
    }
}
