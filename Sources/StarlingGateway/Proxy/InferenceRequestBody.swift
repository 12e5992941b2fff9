import Foundation
import NIOCore
import StarlingSimulator

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

    static func parse(_ body: ByteBuffer, kind: Kind) throws(OpenAIError) -> InferenceRequestBody {
        let bytes = Array(body.readableBytesView)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw .badRequest("The request body is not valid JSON: \(Self.reason(error))")
        }
        guard let fields = object as? [String: Any] else {
            throw .badRequest("The request body must be a JSON object")
        }
        let reader = FieldReader(fields: fields)
        guard let model = try reader.string("model") else { throw .badRequest("Field required: model", param: "model") }
        guard !model.isEmpty, let range = JSONScanner.topLevelStringRange(of: "model", in: bytes) else {
            throw .badRequest("model must not be empty", param: "model")
        }
        let stream = try reader.bool("stream") ?? false
        var request = InferenceRequestBody(model: model, stream: stream, modelRange: range)
        switch kind {
        case .chat:
            request.promptText = try ChatTemplate.render(fields["messages"])
        case .completion:
            switch fields["prompt"] {
            case let text as String: request.promptText = text
            case let texts as [String] where texts.count == 1: request.promptText = texts[0]
            case let ids as [NSNumber] where !ids.isEmpty: request.promptTokens = ids.map { $0.uint32Value }
            case nil, is NSNull: throw .badRequest("Field required: prompt", param: "prompt")
            default: break  // batches and other forms are left for the model server to judge
            }
        }
        return request
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

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }
}
