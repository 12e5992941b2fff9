/// Finds things in JSON text without decoding it, so the gateway can change one value and forward every other
/// byte as the client sent it. Assumes the text is valid JSON (it is checked by a parser first).
enum JSONScanner {
    /// The byte range of the contents (inside the quotes) of the string value of top-level member `key`; nil
    /// when the member is absent or not a string. With duplicate keys, the last one (as parsers keep).
    static func topLevelStringRange(of key: String, in bytes: [UInt8]) -> Range<Int>? {
        let wanted = Array(key.utf8)
        var depth = 0
        var i = 0
        var found: Range<Int>?
        var expectingKey = false
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"):
                depth += 1
                expectingKey = depth == 1
                i += 1
            case UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                i += 1
            case UInt8(ascii: ","):
                expectingKey = depth == 1
                i += 1
            case UInt8(ascii: "\""):
                let end = endOfString(bytes, from: i)
                if depth == 1 && expectingKey {
                    expectingKey = false
                    let isWanted = bytes[(i + 1)..<(end - 1)].elementsEqual(wanted)
                    i = end
                    // Skip to the value.
                    while i < bytes.count, bytes[i] != UInt8(ascii: ":") { i += 1 }
                    i += 1
                    while i < bytes.count, isSpace(bytes[i]) { i += 1 }
                    if isWanted, i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                        let valueEnd = endOfString(bytes, from: i)
                        found = (i + 1)..<(valueEnd - 1)
                        i = valueEnd
                    }
                } else {
                    i = end
                }
            default:
                i += 1
            }
        }
        return found
    }

    /// The index just past the closing quote of the string that opens at `start`.
    static func endOfString(_ bytes: [UInt8], from start: Int) -> Int {
        var i = start + 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return bytes.count
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
