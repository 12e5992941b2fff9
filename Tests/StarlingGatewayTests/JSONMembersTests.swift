import Foundation
import Testing

@testable import StarlingGateway

@Suite struct JSONMembersTests {
    func members(_ bytes: [UInt8]) throws(JSONMembers.Malformed) -> JSONMembers {
        let result: Result<JSONMembers, JSONMembers.Malformed> = bytes.withUnsafeBytes { raw in
            do throws(JSONMembers.Malformed) {
                return .success(try JSONMembers(raw))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    func string(_ name: String, in text: String) throws -> String? {
        let bytes = Array(text.utf8)
        let json = try members(bytes)
        guard let member = json.members[name] else { return nil }
        return bytes.withUnsafeBytes { JSONMembers.string(member, in: $0) }
    }

    @Test(arguments: [
        #"{}"#, #"[]"#, #" {"a" : [1, -2.5e+3, 0, 0.25, true, false, null, {"b": {}}, []], "c": "d"} "#, #""text""#,
        "3", "-0", "1E9", #"{"\u00e9\ud83d\ude00": "\"\\\/\b\f\n\r\t"}"#, "{\"é\": \"日本\"}", "\t[\n1\r]",
    ])
    func validTextIsAccepted(_ text: String) throws {
        _ = try members(Array(text.utf8))
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil)
    }

    /// RFC 8259, as the model servers behind the gateway read it (Foundation on Linux lets trailing commas pass).
    @Test(
        arguments: [
            ("", "unexpected end of text"), (#"{"a":1,}"#, "unexpected '}' at offset 7"),
            (#"{"a" 1}"#, "unexpected '1'"),
            ("[1,]", "unexpected ']'"), ("[1 2]", "unexpected '2'"), ("01", "unexpected '1' at offset 1 after"),
            ("1.", "after a decimal point"), ("1e", "in an exponent"), ("-", "in a number"), ("+1", "unexpected '+'"),
            ("tru", "invalid literal at offset 0 (expected true)"), ("nul", "expected null"),
            (#"{"a":1"#, "end of text"),
            (#""abc"#, "unterminated string starting at offset 0"), (#""\x""#, "after a backslash"),
            (#""\u12G4""#, #"in a \u escape"#), ("\"a\tb\"", "control characters must be escaped"),
            (#"{"a":1} x"#, "after the top-level value"), (#"{1:2}"#, "where a member name should start"),
            ("NaN", "unexpected 'N'"), ("[1,2", "unexpected end of text"),
        ] as [(String, String)])
    func malformedTextIsNamed(_ text: String, _ message: String) {
        #expect {
            try members(Array(text.utf8))
        } throws: { error in
            (error as? JSONMembers.Malformed)?.message.contains(message) == true
        }
    }

    @Test(
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
            [0x22, 0xE2, 0x82, 0x22],
        ] as [[UInt8]])
    func invalidUTF8IsRefused(_ bytes: [UInt8]) {
        #expect(throws: JSONMembers.Malformed.self) { try members(bytes) }
    }

    @Test func deepNestingIsRefusedNotOverflowed() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect {
            try members(Array(deep.utf8))
        } throws: { error in
            (error as? JSONMembers.Malformed)?.message == "nested deeper than 512 levels"
        }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        _ = try members(Array(fine.utf8))
    }

    @Test func membersAreTheTopLevelOnesWithTheLastOfARepeatedName() throws {
        let text = #"{"model":"a","nested":{"model":"x"},"list":["model"],"model":"b","n":null,"s":true}"#
        let bytes = Array(text.utf8)
        let json = try members(bytes)
        #expect(json.isObject)
        #expect(Set(json.members.keys) == ["model", "nested", "list", "n", "s"])
        #expect(json.members["nested"]?.kind == .object && json.members["list"]?.kind == .array)
        #expect(json.members["n"]?.kind == .null && json.members["s"]?.kind == .bool)
        let model = try #require(json.members["model"])
        #expect(String(decoding: bytes[model.contents], as: UTF8.self) == "b")
        #expect(try !members(Array("[1]".utf8)).isObject)
    }

    @Test(arguments: [
        (#"{"k":"plain text"}"#, "plain text"), (#"{"k":"q\"b\\s\/n\nt\tu\u0041"}"#, "q\"b\\s/n\nt\tuA"),
        (#"{"k":"\ud83d\ude00 \u00e9"}"#, "😀 é"), (#"{"k":"lone \ud800 x"}"#, "lone \u{FFFD} x"),
        ("{\"k\":\"日本\"}", "日本"),
        (#"{"k\u0031":"escaped name"}"#, nil),
    ])
    func stringsAreDecoded(_ text: String, _ expected: String?) throws {
        #expect(try string("k", in: text) == expected)
        if expected == nil { #expect(try string("k1", in: text) == "escaped name") }
    }
}
