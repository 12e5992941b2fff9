import Foundation
import NIOCore
import StarlingOpenAI

/// The fields of an OpenAI completion or chat request the gateway routes by. The body itself is forwarded as
/// it came, except for the model name when a rewrite changes it.
struct InferenceRequestBody: Sendable {
    enum Kind: Sendable { case completion, chat }

    var model: String
    var stream: Bool
    /// The prompt as the simulator's tokenizer sees it (chat messages rendered with its template), or its
    /// token ids when the client sent ids. Only read when a profile scores prefix affinity.
    var promptText: String?
    var promptTokens: [UInt32]?
    /// Byte offsets of the model string's contents in the body (between the quotes), for rewriting.
    var modelRange: Range<Int>

    /// Reads the routing fields. The whole body is checked as JSON, but only the members read are decoded (chat
    /// messages, and prompts given as lists, through Foundation's parser; strings directly).
    static func parse(_ body: ByteBuffer, kind: Kind) throws(OpenAIError) -> InferenceRequestBody {
        let result: Result<InferenceRequestBody, OpenAIError> = body.withUnsafeReadableBytes { bytes in
            do throws(OpenAIError) {
                return .success(try parse(bytes, kind: kind))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, kind: Kind) throws(OpenAIError) -> InferenceRequestBody {
        let json: JSONMembers
        do {
            json = try JSONMembers(bytes)
        } catch {
            throw .badRequest("The request body is not valid JSON: \(error.message)")
        }
        guard json.isObject else { throw .badRequest("The request body must be a JSON object") }
        func text(_ member: JSONMembers.Member) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.range]), as: UTF8.self)
        }
        func present(_ name: String) -> JSONMembers.Member? {
            guard let member = json.members[name], member.kind != .null else { return nil }
            return member
        }
        guard let model = present("model") else { throw .badRequest("Field required: model", param: "model") }
        guard model.kind == .string else {
            throw .badRequest("model must be a string, got \(text(model))", param: "model")
        }
        guard !model.contents.isEmpty else { throw .badRequest("model must not be empty", param: "model") }
        var stream = false
        if let member = present("stream") {
            guard member.kind == .bool else {
                throw .badRequest("stream must be a boolean, got \(text(member))", param: "stream")
            }
            stream = bytes[member.range.lowerBound] == UInt8(ascii: "t")
        }
        var request = InferenceRequestBody(
            model: JSONMembers.string(model, in: bytes), stream: stream, modelRange: model.contents)
        switch kind {
        case .chat:
            request.promptText = try ChatTemplate.render(present("messages").flatMap { decode($0, in: bytes) })
        case .completion:
            guard let prompt = present("prompt") else { throw .badRequest("Field required: prompt", param: "prompt") }
            switch prompt.kind {
            case .string:
                request.promptText = JSONMembers.string(prompt, in: bytes)
            case .array:
                switch decode(prompt, in: bytes) {
                case let texts as [String] where texts.count == 1: request.promptText = texts[0]
                case let ids as [NSNumber] where !ids.isEmpty: request.promptTokens = ids.map { $0.uint32Value }
                default: break  // batches and other forms are left for the model server to judge
                }
            default:
                break
            }
        }
        return request
    }

    /// One member's value as Foundation's parser gives it (the text is known to be valid).
    private static func decode(_ member: JSONMembers.Member, in bytes: UnsafeRawBufferPointer) -> Any? {
        let data = Data(UnsafeRawBufferPointer(rebasing: bytes[member.range]))
        return try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    /// The body with the model name replaced (`name` is escaped as a JSON string's contents).
    static func renaming(_ body: ByteBuffer, range: Range<Int>, to name: String) -> ByteBuffer {
        var escaped = ""
        JSONText.appendEscaped(name, to: &escaped)
        var result = ByteBuffer()
        result.reserveCapacity(body.readableBytes - range.count + escaped.utf8.count)
        let start = body.readerIndex
        result.writeImmutableBuffer(body.getSlice(at: start, length: range.lowerBound)!)
        result.writeString(escaped)
        result.writeImmutableBuffer(
            body.getSlice(at: start + range.upperBound, length: body.readableBytes - range.upperBound)!)
        return result
    }
}
