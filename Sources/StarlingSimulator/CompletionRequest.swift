import Foundation
import StarlingOpenAI

/// A parsed `/v1/completions` or `/v1/chat/completions` body. Fields vLLM accepts but the simulator has no use
/// for (temperature, top_p, stop, ...) are type-checked and otherwise ignored.
public struct CompletionRequest: Sendable, Equatable {
    public enum Kind: Sendable { case completion, chat }

    public var kind: Kind
    public var model: String
    /// The text the model sees: the prompt, or the chat rendered with `ChatTemplate`.
    public var promptText: String?
    /// Token ids given directly (`prompt` as an array of integers).
    public var promptTokenIDs: [UInt32]?
    public var maxTokens: Int?
    public var ignoreEOS = false
    public var stream = false
    public var includeUsage = false
    public var seed: UInt64?

    /// Parses and checks `body`; every problem is a 400 naming the field.
    public static func parse(_ body: Data, kind: Kind) throws(OpenAIError) -> CompletionRequest {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            throw .badRequest("The request body is not valid JSON: \(Self.describe(error))")
        }
        guard let fields = object as? [String: Any] else {
            throw .badRequest("The request body must be a JSON object")
        }
        let reader = FieldReader(fields: fields)
        guard let model = try reader.string("model") else { throw .badRequest("Field required: model", param: "model") }
        var request = CompletionRequest(kind: kind, model: model)
        switch kind {
        case .completion:
            try request.readPrompt(fields["prompt"])
        case .chat:
            request.promptText = try ChatTemplate.render(fields["messages"])
        }
        let maxTokensField =
            kind == .chat && fields["max_completion_tokens"] != nil ? "max_completion_tokens" : "max_tokens"
        if let maxTokens = try reader.integer(maxTokensField) {
            guard maxTokens >= 1 else {
                throw .badRequest("\(maxTokensField) must be at least 1, got \(maxTokens).", param: maxTokensField)
            }
            request.maxTokens = maxTokens
        }
        if let n = try reader.integer("n"), n != 1 {
            throw .badRequest("n must be 1 (the simulator returns one choice), got \(n).", param: "n")
        }
        if let best = try reader.integer("best_of"), best != 1 {
            throw .badRequest("best_of must be 1, got \(best).", param: "best_of")
        }
        request.ignoreEOS = try reader.bool("ignore_eos") ?? false
        request.stream = try reader.bool("stream") ?? false
        if let options = fields["stream_options"], !(options is NSNull) {
            guard let options = options as? [String: Any] else {
                throw .badRequest("stream_options must be an object", param: "stream_options")
            }
            request.includeUsage =
                try FieldReader(fields: options, prefix: "stream_options.").bool("include_usage") ?? false
            if !request.stream {
                throw .badRequest("stream_options can only be set when stream is true", param: "stream_options")
            }
        }
        if let seed = try reader.integer("seed") { request.seed = UInt64(bitPattern: Int64(seed)) }
        // Sampling parameters are checked as vLLM's SamplingParams checks them (400 with its message), though the
        // simulator's text does not depend on them.
        if let t = try reader.number("temperature"), !(t >= 0) {
            throw .badRequest("temperature must be non-negative, got \(t).", param: "temperature")
        }
        if let p = try reader.number("top_p"), !(p > 0 && p <= 1) {
            throw .badRequest("top_p must be in (0, 1], got \(p).", param: "top_p")
        }
        if let p = try reader.number("min_p"), !(p >= 0 && p <= 1) {
            throw .badRequest("min_p must be in [0, 1], got \(p).", param: "min_p")
        }
        for field in ["frequency_penalty", "presence_penalty"] {
            if let v = try reader.number(field), !(v >= -2 && v <= 2) {
                throw .badRequest("\(field) must be in [-2, 2], got \(v).", param: field)
            }
        }
        if let r = try reader.number("repetition_penalty"), !(r > 0) {
            throw .badRequest("repetition_penalty must be greater than zero, got \(r).", param: "repetition_penalty")
        }
        if let top = try reader.integer("top_k"), top < -1 || top == 0 {
            throw .badRequest("top_k must be -1 (disable) or at least 1, got \(top).", param: "top_k")
        }
        return request
    }

    init(kind: Kind, model: String) {
        self.kind = kind
        self.model = model
    }

    private mutating func readPrompt(_ value: Any?) throws(OpenAIError) {
        switch value {
        case nil, is NSNull:
            throw .badRequest("Field required: prompt", param: "prompt")
        case let text as String:
            promptText = text
        case let list as [Any]:
            if list.count == 1, let text = list[0] as? String {
                promptText = text
            } else if !list.isEmpty, list.allSatisfy({ FieldReader.integerValue($0) != nil }) {
                let ids = list.compactMap { FieldReader.integerValue($0) }
                guard ids.allSatisfy({ $0 >= 0 && $0 <= Int(UInt32.max) }) else {
                    throw .badRequest("prompt token ids must be non-negative 32-bit integers", param: "prompt")
                }
                promptTokenIDs = ids.map { UInt32($0) }
            } else if list.count > 1 && list.allSatisfy({ $0 is String }) {
                throw .badRequest(
                    "prompt must be one string; batched prompts (a list of \(list.count)) are not supported",
                    param: "prompt")
            } else {
                throw .badRequest("prompt must be a string or a list of token ids", param: "prompt")
            }
        default:
            throw .badRequest("prompt must be a string or a list of token ids", param: "prompt")
        }
        if promptText?.isEmpty == true || promptTokenIDs?.isEmpty == true {
            throw .badRequest("prompt must not be empty", param: "prompt")
        }
    }

    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }
}

/// Typed access to a JSON object's fields (from `JSONSerialization`), with errors naming the field.
public struct FieldReader {
    public let fields: [String: Any]
    public var prefix = ""

    public init(fields: [String: Any], prefix: String = "") {
        self.fields = fields
        self.prefix = prefix
    }

    public func string(_ name: String) throws(OpenAIError) -> String? {
        guard let value = present(name) else { return nil }
        guard let string = value as? String else { throw wrongType(name, "a string", value) }
        return string
    }

    public func integer(_ name: String) throws(OpenAIError) -> Int? {
        guard let value = present(name) else { return nil }
        guard let int = Self.integerValue(value) else { throw wrongType(name, "an integer", value) }
        return int
    }

    public func number(_ name: String) throws(OpenAIError) -> Double? {
        guard let value = present(name) else { return nil }
        guard let number = value as? NSNumber, !Self.isBool(number) else { throw wrongType(name, "a number", value) }
        return number.doubleValue
    }

    public func bool(_ name: String) throws(OpenAIError) -> Bool? {
        guard let value = present(name) else { return nil }
        guard let number = value as? NSNumber, Self.isBool(number) else { throw wrongType(name, "a boolean", value) }
        return number.boolValue
    }

    private func present(_ name: String) -> Any? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        return value
    }

    private func wrongType(_ name: String, _ expected: String, _ value: Any) -> OpenAIError {
        .badRequest("\(prefix)\(name) must be \(expected), got \(Self.render(value))", param: prefix + name)
    }

    static func isBool(_ number: NSNumber) -> Bool {
        // JSONSerialization returns booleans as NSNumber too; their Objective-C type is "c".
        String(cString: number.objCType) == "c"
    }

    static func integerValue(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !isBool(number) else { return nil }
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9e15 else { return nil }
        return number.intValue
    }

    static func render(_ value: Any) -> String {
        if let string = value as? String { return "\"\(string)\"" }
        if let number = value as? NSNumber {
            return isBool(number) ? (number.boolValue ? "true" : "false") : "\(number)"
        }
        if value is [Any] { return "a list" }
        if value is [String: Any] { return "an object" }
        return "\(value)"
    }
}
