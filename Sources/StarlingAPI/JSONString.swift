/// Decoding of JSON string literals straight from bytes, for readers that scan JSON text instead of parsing it
/// whole (the gateway's request-body scanner, the bench's stream parser).
public enum JSONString {
    /// Decodes the string whose contents start at `start` (just after its opening quote), up to its closing
    /// quote or the end of `bytes`; returns the text and the index just past the closing quote. Escapes are
    /// resolved, `\u` surrogate pairs joined; a lone surrogate becomes U+FFFD and a `\u` without four hex digits
    /// is dropped (the text is not validated here).
    @inlinable
    public static func decode<Bytes: RandomAccessCollection>(
        _ bytes: Bytes, from start: Int
    ) -> (text: String, end: Int) where Bytes.Element == UInt8, Bytes.Index == Int {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.endIndex - start)
        var i = start
        while i < bytes.endIndex {
            // Copy the run up to the next quote or escape in one go.
            var end = i
            while end < bytes.endIndex, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
            utf8.append(contentsOf: bytes[i..<end])
            i = end
            guard i < bytes.endIndex else { break }
            if bytes[i] == UInt8(ascii: "\"") { return (String(decoding: utf8, as: UTF8.self), i + 1) }
            guard i + 1 < bytes.endIndex else {
                utf8.append(bytes[i])
                i += 1
                break
            }
            let escaped = bytes[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                guard var code = hexValue(bytes, at: i) else { continue }
                i += 4
                if (0xD800..<0xDC00).contains(code), i + 6 <= bytes.endIndex, bytes[i] == UInt8(ascii: "\\"),
                    bytes[i + 1] == UInt8(ascii: "u"), let low = hexValue(bytes, at: i + 2),
                    (0xDC00..<0xE000).contains(low)
                {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                utf8.append(contentsOf: String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8)
            default: utf8.append(escaped)
            }
        }
        return (String(decoding: utf8, as: UTF8.self), i)
    }

    /// The four hex digits at `index` as a number, or nil.
    @inlinable
    static func hexValue<Bytes: RandomAccessCollection>(
        _ bytes: Bytes, at index: Int
    ) -> UInt32? where Bytes.Element == UInt8, Bytes.Index == Int {
        guard index >= bytes.startIndex, index + 4 <= bytes.endIndex else { return nil }
        var value: UInt32 = 0
        for k in index..<(index + 4) {
            let byte = bytes[k]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
