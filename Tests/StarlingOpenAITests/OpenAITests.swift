import Foundation
import StarlingOpenAI
import Testing

@Suite struct ChatTemplateTests {
    @Test func messagesRenderInOrderAndEndWithTheAssistantTurn() throws {
        let messages: [Any] = [
            ["role": "system", "content": "Be brief."],
            ["role": "user", "content": [["type": "text", "text": "a"], ["type": "text", "text": "b"]]],
            ["role": "assistant", "content": NSNull()],
        ]
        #expect(
            try ChatTemplate.render(messages)
                == "<|system|>\nBe brief.\n<|user|>\na\nb\n<|assistant|>\n\n<|assistant|>\n")
    }

    /// Each row: the messages as JSON text, what the error says, and the parameter it names.
    @Test(arguments: [
        ("null", "Field required: messages", "messages"),
        (#""hi""#, "messages must be a list", "messages"),
        ("[]", "messages must not be empty", "messages"),
        (#"[{"role":"robot","content":"x"}]"#, "messages[0].role must be one of", "messages[0].role"),
        (#"[{"content":"x"}]"#, "messages[0].role is required", "messages[0].role"),
        (
            #"[{"role":"user","content":[{"type":"image_url"}]}]"#,
            #"messages[0].content[0].type "image_url" is not supported"#, "messages[0].content[0].type"
        ),
        (#"[{"role":"user","content":5}]"#, "messages[0].content must be a string or a list", "messages[0].content"),
    ])
    func badMessagesNameTheElement(json: String, message: String, param: String) throws {
        let messages = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        #expect {
            _ = try ChatTemplate.render(messages)
        } throws: { error in
            let e = error as! OpenAIError
            return e.status == 400 && e.message.contains(message) && e.param == param
        }
    }
}

@Suite struct JSONTextTests {
    @Test(arguments: [
        ("plain", #""plain""#),
        ("quote \" and \\ backslash", #""quote \" and \\ backslash""#),
        ("line\nfeed\ttab\rreturn", #""line\nfeed\ttab\rreturn""#),
        ("\u{1}\u{1f}", #""\u0001\u001f""#),
        ("é ✓ 😀", "\"é ✓ 😀\""),
    ])
    func stringsAreEscapedAsJSON(value: String, expected: String) throws {
        #expect(JSONText.string(value) == expected)
        // What it writes reads back as the same string.
        let decoded = try JSONSerialization.jsonObject(with: Data(expected.utf8), options: .fragmentsAllowed)
        #expect(decoded as? String == value)
    }
}

@Suite struct OpenAIErrorTests {
    @Test func theBodyHasOpenAIsShape() throws {
        let body = OpenAIError.modelNotFound("gpt-9").json
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let error = try #require(object["error"] as? [String: Any])
        #expect(error["message"] as? String == "The model `gpt-9` does not exist.")
        #expect(error["type"] as? String == "NotFoundError")
        #expect(error["param"] as? String == "model")
        #expect(error["code"] as? Int == 404)
        let plain = try #require(
            try JSONSerialization.jsonObject(with: OpenAIError.badRequest("x").json) as? [String: Any])
        #expect((plain["error"] as? [String: Any])?["param"] is NSNull)
    }
}
