import StarlingAPI

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
        JSONString.decode(bytes, from: start).text
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
