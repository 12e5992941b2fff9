import StarlingAPI
import Testing

@Suite struct JSONStringTests {
    @Test(
        arguments: [
            (#""plain" rest"#, "plain", 7), (#""a\"b\\c\/d\ne\tf" x"#, "a\"b\\c/d\ne\tf", 18),
            (#""\ud83d\ude00\u00e9""#, "😀é", 20), (#""lone \udc00!""#, "lone \u{FFFD}!", 14),
            (#""bad \u12 x""#, "bad 12 x", 12), (#""unterminated"#, "unterminated", 13),
        ] as [(String, String, Int)])
    func decodesUpToTheClosingQuote(_ text: String, _ expected: String, _ end: Int) {
        let bytes = Array(text.utf8)
        let decoded = JSONString.decode(bytes, from: 1)
        #expect(decoded.text == expected)
        #expect(decoded.end == end)
    }
}
