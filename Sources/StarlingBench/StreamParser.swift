/// Incremental parser of an OpenAI streaming response: finds `data:` events, tells content chunks from empty
/// ones and reads `usage` — by scanning bytes, without decoding JSON per token, so the client keeps up with fast
/// servers.
struct StreamParser {
    private var pending: [UInt8] = []
    private(set) var done = false
    private(set) var promptTokens: Int?
    private(set) var completionTokens: Int?
    /// Whether to keep the output text (multi-turn sessions resend it); off, the parser decodes no strings.
    var collectsText = false
    private(set) var text = ""

    /// Feeds bytes; returns how many events carried output text.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Int {
        pending.append(contentsOf: bytes)
        var contentEvents = 0
        var start = 0
        var i = 0
        while i + 1 < pending.count {
            if pending[i] == 10 && pending[i + 1] == 10 {
                if event(pending[start..<i]) { contentEvents += 1 }
                start = i + 2
                i += 2
            } else {
                i += 1
            }
        }
        if start > 0 { pending.removeFirst(start) }
        return contentEvents
    }

    private static let data = Array("data: ".utf8)
    private static let doneMarker = Array("[DONE]".utf8)
    private static let textKey = Array("\"text\":\"".utf8)
    private static let contentKey = Array("\"content\":\"".utf8)
    private static let promptKey = Array("\"prompt_tokens\":".utf8)
    private static let completionKey = Array("\"completion_tokens\":".utf8)

    /// Handles one event; true if it carried non-empty output text.
    private mutating func event(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.starts(with: Self.data) else { return false }
        let payload = bytes.dropFirst(Self.data.count)
        if payload.starts(with: Self.doneMarker) {
            done = true
            return false
        }
        if let n = Self.integer(after: Self.completionKey, in: payload) { completionTokens = n }
        if let n = Self.integer(after: Self.promptKey, in: payload) { promptTokens = n }
        for key in [Self.textKey, Self.contentKey] {
            if let end = Self.find(key, in: payload), end < payload.endIndex, payload[end] != UInt8(ascii: "\"") {
                if collectsText { text += Self.jsonString(startingAt: end, in: payload) }
                return true
            }
        }
        return false
    }

    /// Decodes the JSON string whose first character is at `start` (just after the opening quote).
    static func jsonString(startingAt start: Int, in bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var scalars = String.UnicodeScalarView()
        func flush() {
            if !out.isEmpty { scalars.append(contentsOf: String(decoding: out, as: UTF8.self).unicodeScalars) }
            out.removeAll(keepingCapacity: true)
        }
        func hex(_ at: Int) -> UInt32? {
            guard at + 4 <= bytes.endIndex else { return nil }
            return UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
        }
        var i = start
        while i < bytes.endIndex, bytes[i] != UInt8(ascii: "\"") {
            guard bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.endIndex else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let escaped = bytes[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "u"):
                guard var code = hex(i) else { break }
                i += 4
                if (0xD800..<0xDC00).contains(code), i + 6 <= bytes.endIndex, bytes[i] == UInt8(ascii: "\\"),
                    let low = hex(i + 2), (0xDC00..<0xE000).contains(low)
                {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                flush()
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: out.append(escaped)
            }
        }
        flush()
        return String(scalars)
    }

    /// Index just after `needle` in `haystack`.
    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while i <= last {
            if haystack[i] == needle[0] && haystack[i..<i + needle.count].elementsEqual(needle) {
                return i + needle.count
            }
            i += 1
        }
        return nil
    }

    static func integer(after key: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        guard var i = find(key, in: bytes) else { return nil }
        var value = 0
        var digits = 0
        while i < bytes.endIndex, bytes[i] >= 48, bytes[i] <= 57 {
            value = value * 10 + Int(bytes[i] - 48)
            digits += 1
            i += 1
        }
        return digits > 0 ? value : nil
    }
}
