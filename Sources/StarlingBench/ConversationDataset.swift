import Foundation

/// Conversations read from a dataset file: a JSON array or JSON Lines of objects in ShareGPT's layout
/// (`{"conversations": [{"from": "human", "value": "..."}, {"from": "gpt", "value": "..."}]}`), or OpenAI's
/// (`{"messages": [{"role": "user", "content": "..."}]}`).
public struct ConversationDataset: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable { case system, user, assistant }

    public struct Message: Sendable, Equatable {
        public var role: Role
        public var text: String
        public init(_ role: Role, _ text: String) {
            self.role = role
            self.text = text
        }
    }

    /// One conversation, in order; every one kept has at least one user message.
    public typealias Conversation = [Message]

    public var conversations: [Conversation]
    /// Entries left out because they had no user message with text.
    public var skipped: Int

    public init(conversations: [Conversation], skipped: Int = 0) {
        self.conversations = conversations
        self.skipped = skipped
    }

    /// ShareGPT's speaker names (and OpenAI's roles) and what they mean.
    static let roles: [String: Role] = [
        "human": .user, "user": .user, "gpt": .assistant, "assistant": .assistant, "chatgpt": .assistant,
        "bing": .assistant, "bard": .assistant, "model": .assistant, "system": .system,
    ]

    /// Reads `path`; errors name the file, the entry (array index or line) and the field.
    public static func load(path: String) throws(BenchConfigurationError) -> ConversationDataset {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BenchConfigurationError("data.dataset.path: cannot read \"\(path)\": \(error.localizedDescription)")
        }
        return try parse(data, source: path)
    }

    /// Parses a JSON array or JSON Lines.
    public static func parse(_ data: Data, source: String) throws(BenchConfigurationError) -> ConversationDataset {
        let firstByte = data.first { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13) }
        var entries: [(where: String, object: Any)] = []
        if firstByte == UInt8(ascii: "[") {
            guard let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
                throw BenchConfigurationError("\(source): not a valid JSON array")
            }
            entries = array.enumerated().map { ("\(source)[\($0.offset)]", $0.element) }
        } else {
            var lineNumber = 0
            for line in data.split(separator: 10, omittingEmptySubsequences: false) {
                lineNumber += 1
                guard line.contains(where: { !($0 == 32 || $0 == 9 || $0 == 13) }) else { continue }
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) else {
                    throw BenchConfigurationError("\(source):\(lineNumber): not valid JSON")
                }
                entries.append(("\(source):\(lineNumber)", object))
            }
        }
        guard !entries.isEmpty else { throw BenchConfigurationError("\(source): no conversations") }
        var conversations: [Conversation] = []
        var skipped = 0
        for (location, object) in entries {
            let conversation = try Self.conversation(object, location: location)
            if conversation.contains(where: { $0.role == .user && !$0.text.isEmpty }) {
                conversations.append(conversation)
            } else {
                skipped += 1
            }
        }
        guard !conversations.isEmpty else {
            throw BenchConfigurationError("\(source): none of \(entries.count) entries has a user message with text")
        }
        return ConversationDataset(conversations: conversations, skipped: skipped)
    }

    static func conversation(_ object: Any, location: String) throws(BenchConfigurationError) -> Conversation {
        guard let entry = object as? [String: Any] else {
            throw BenchConfigurationError("\(location): expected an object")
        }
        let (key, roleKey, textKey): (String, String, String) =
            entry["conversations"] != nil ? ("conversations", "from", "value") : ("messages", "role", "content")
        guard let turns = entry[key] as? [Any] else {
            throw BenchConfigurationError("\(location): expected a \"conversations\" (ShareGPT) or \"messages\" array")
        }
        var messages: Conversation = []
        for (i, turn) in turns.enumerated() {
            let path = "\(location).\(key)[\(i)]"
            guard let fields = turn as? [String: Any] else {
                throw BenchConfigurationError("\(path): expected an object")
            }
            guard let speaker = fields[roleKey] as? String else {
                throw BenchConfigurationError("\(path).\(roleKey): Required value (a string)")
            }
            guard let role = roles[speaker.lowercased()] else {
                throw BenchConfigurationError(
                    "\(path).\(roleKey): \"\(speaker)\" is not one of \(roles.keys.sorted().joined(separator: ", "))")
            }
            guard let text = fields[textKey] as? String else {
                throw BenchConfigurationError("\(path).\(textKey): Required value (a string)")
            }
            messages.append(Message(role, text))
        }
        return messages
    }
}
