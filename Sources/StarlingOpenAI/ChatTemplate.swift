import Foundation

/// The simulator's chat template. Each message becomes `<|role|>\n` + content + `\n`, and the prompt ends with
/// `<|assistant|>\n` for the reply; content given as a list of parts keeps only the `text` parts, joined by
/// newlines. The rendered text is what gets tokenized, so chats that share their first messages share prefix
/// blocks, as with a real template.
public enum ChatTemplate {
    public static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    /// Renders `messages` (the raw JSON value) or throws a 400 naming the bad element.
    public static func render(_ messages: Any?) throws(OpenAIError) -> String {
        guard let messages, !(messages is NSNull) else {
            throw .badRequest("Field required: messages", param: "messages")
        }
        guard let list = messages as? [Any] else { throw .badRequest("messages must be a list", param: "messages") }
        guard !list.isEmpty else { throw .badRequest("messages must not be empty", param: "messages") }
        var text = ""
        for (i, element) in list.enumerated() {
            let path = "messages[\(i)]"
            guard let message = element as? [String: Any] else {
                throw .badRequest("\(path) must be an object", param: path)
            }
            guard let role = message["role"] as? String else {
                throw .badRequest("\(path).role is required and must be a string", param: "\(path).role")
            }
            guard roles.contains(role) else {
                throw .badRequest(
                    "\(path).role must be one of \(roles.sorted().joined(separator: ", ")), got \"\(role)\"",
                    param: "\(path).role")
            }
            text += "<|\(role)|>\n" + (try content(message["content"], path: "\(path).content")) + "\n"
        }
        return text + "<|assistant|>\n"
    }

    static func content(_ value: Any?, path: String) throws(OpenAIError) -> String {
        switch value {
        case nil, is NSNull:
            return ""
        case let text as String:
            return text
        case let parts as [Any]:
            var texts: [String] = []
            for (i, part) in parts.enumerated() {
                guard let part = part as? [String: Any], let type = part["type"] as? String else {
                    throw .badRequest("\(path)[\(i)] must be an object with a type", param: "\(path)[\(i)]")
                }
                guard type == "text" else {
                    throw .badRequest(
                        "\(path)[\(i)].type \"\(type)\" is not supported; only \"text\" parts are",
                        param: "\(path)[\(i)].type")
                }
                guard let text = part["text"] as? String else {
                    throw .badRequest("\(path)[\(i)].text must be a string", param: "\(path)[\(i)].text")
                }
                texts.append(text)
            }
            return texts.joined(separator: "\n")
        default:
            throw .badRequest("\(path) must be a string or a list of parts", param: path)
        }
    }
}
