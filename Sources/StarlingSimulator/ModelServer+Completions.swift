import Foundation
import Hummingbird
import NIOCore
import StarlingOpenAI

extension ModelServer {
    /// What a completion request resolves to before it reaches the engine.
    struct Prepared {
        var request: CompletionRequest
        var engineRequest: EngineRequest
        var generator: TextGenerator
        var id: String
        var created: Int
    }

    func prepare(_ body: Data, kind: CompletionRequest.Kind) throws(OpenAIError) -> Prepared {
        let request = try CompletionRequest.parse(body, kind: kind)
        var adapter: String?
        if !configuration.servedModelNames.contains(request.model) {
            guard adapters.contains(request.model) else { throw .modelNotFound(request.model) }
            adapter = request.model
        }
        let tokens = request.promptTokenIDs ?? tokenizer.encode(request.promptText ?? "")
        let context = configuration.engine.profile.contextLength
        let maxTokens = request.maxTokens ?? (context - tokens.count)
        if tokens.count + maxTokens > context || tokens.count >= context {
            let what = kind == .chat ? "messages" : "prompt"
            throw .badRequest(
                "This model's maximum context length is \(context) tokens. However, you requested "
                    + "\(tokens.count + maxTokens) tokens (\(tokens.count) in the \(what), \(maxTokens) in the "
                    + "completion). Please reduce the length of the \(what) or completion.",
                param: request.maxTokens == nil ? what : "max_tokens")
        }
        let engine = configuration.engine
        let blocksNeeded = (tokens.count + maxTokens + engine.blockSize - 1) / engine.blockSize
        if blocksNeeded > engine.numGPUBlocks {
            throw .badRequest(
                "The request needs \(blocksNeeded) KV-cache blocks (\(tokens.count) prompt + \(maxTokens) completion "
                    + "tokens in blocks of \(engine.blockSize)), but the cache has only \(engine.numGPUBlocks). "
                    + "Lower max_tokens or start the server with more --num-gpu-blocks.",
                param: "max_tokens")
        }
        let number = nextNumber()
        let seed = request.seed ?? (configuration.seed &* 0x9E37_79B9_7F4A_7C15 &+ number)
        var generator = TextGenerator(seed: seed)
        var output = maxTokens
        var reason = FinishReason.length
        if !request.ignoreEOS {
            let natural = generator.naturalLength()
            if natural < maxTokens {
                output = natural
                reason = .stop
            }
        }
        // Unique across processes: replicas share seeds, so their texts may match, but never their ids.
        let id = (kind == .chat ? "chatcmpl-" : "cmpl-") + instanceID + String(number, radix: 16)
        return Prepared(
            request: request,
            engineRequest: EngineRequest(
                model: request.model, adapter: adapter, promptTokens: tokens, outputTokens: output,
                finishReason: reason),
            generator: generator, id: id, created: Int(Date().timeIntervalSince1970))
    }

    func complete(_ request: Request, kind: CompletionRequest.Kind, channel: any Channel) async throws -> Response {
        var request = request
        let body = try await readBody(&request)
        let prepared = try prepare(body, kind: kind)
        let events = engine.submit(prepared.engineRequest)
        if prepared.request.stream {
            // A client that goes away fails the next write, which ends the stream and aborts the request.
            return stream(prepared, events: events)
        }
        // A client that goes away ends the collection, which aborts the request at once, as vLLM does. The close is
        // watched per connection, so keep-alive connections stay open between requests.
        let work = Task { try await self.collect(prepared, events: events) }
        let token = closeWatcher.onClose(of: channel) { work.cancel() }
        defer { closeWatcher.cancel(token, of: channel) }
        return try await withTaskCancellationHandler {
            try await work.value
        } onCancel: {
            work.cancel()
        }
    }

    /// A non-streaming response: the whole text once the engine is done.
    func collect(_ prepared: Prepared, events: AsyncStream<EngineEvent>) async throws -> Response {
        var prepared = prepared
        let kind = prepared.request.kind
        var text = ""
        var produced = 0
        var cached = 0
        var reason = FinishReason.abort
        for await event in events {
            for _ in 0..<event.tokens {
                text += prepared.generator.nextToken(first: produced == 0)
                produced += 1
            }
            if let c = event.cachedPromptTokens { cached = c }
            if let finish = event.finishReason {
                reason = finish
                break
            }
        }
        if reason == .abort {
            if Task.isCancelled { throw CancellationError() }
            throw OpenAIError(status: 503, message: "The server is shutting down", type: "ServiceUnavailableError")
        }
        let choice: [String: Any]
        if kind == .chat {
            choice = [
                "index": 0, "message": ["role": "assistant", "content": text, "tool_calls": [Any]()],
                "logprobs": NSNull(), "finish_reason": reason.rawValue, "stop_reason": NSNull(),
            ]
        } else {
            choice = [
                "index": 0, "text": text, "logprobs": NSNull(), "finish_reason": reason.rawValue,
                "stop_reason": NSNull(), "prompt_logprobs": NSNull(),
            ]
        }
        return Self.json([
            "id": prepared.id, "object": kind == .chat ? "chat.completion" : "text_completion",
            "created": prepared.created, "model": prepared.request.model, "choices": [choice],
            "usage": usage(prompt: prepared.engineRequest.promptTokens.count, completion: produced, cached: cached),
        ])
    }

    func usage(prompt: Int, completion: Int, cached: Int) -> [String: Any] {
        [
            "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": ["cached_tokens": cached],
        ]
    }

    /// Server-sent events: one chunk per engine step, then the usage chunk if asked, then `[DONE]`.
    func stream(_ prepared: Prepared, events: AsyncStream<EngineEvent>) -> Response {
        let chat = prepared.request.kind == .chat
        let head =
            "{\"id\":\(JSONText.string(prepared.id)),\"object\":\(chat ? "\"chat.completion.chunk\"" : "\"text_completion\""),"
            + "\"created\":\(prepared.created),\"model\":\(JSONText.string(prepared.request.model)),\"choices\":["
        let includeUsage = prepared.request.includeUsage
        let promptTokens = prepared.engineRequest.promptTokens.count
        let start = prepared.generator
        let body = ResponseBody { writer in
            var generator = start
            var produced = 0
            var cached = 0
            if chat {
                let role =
                    head + "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
                    + "\"finish_reason\":null}]}"
                try await writer.write(ByteBuffer(string: "data: \(role)\n\n"))
            }
            for await event in events {
                // Aborted (the server stopping): the stream ends without [DONE], the connection cut, as vLLM's does.
                if event.finishReason == .abort {
                    throw OpenAIError(
                        status: 503, message: "The server is shutting down", type: "ServiceUnavailableError")
                }
                var text = ""
                for _ in 0..<event.tokens {
                    text += generator.nextToken(first: produced == 0)
                    produced += 1
                }
                if let c = event.cachedPromptTokens { cached = c }
                let finish = event.finishReason.map { "\"\($0.rawValue)\"" } ?? "null"
                let choice =
                    chat
                    ? "{\"index\":0,\"delta\":{\"content\":\(JSONText.string(text))},\"logprobs\":null,\"finish_reason\":\(finish)}"
                    : "{\"index\":0,\"text\":\(JSONText.string(text)),\"logprobs\":null,\"finish_reason\":\(finish),\"stop_reason\":null}"
                try await writer.write(ByteBuffer(string: "data: \(head)\(choice)]}\n\n"))
                if event.finishReason != nil { break }
            }
            if includeUsage {
                let usage =
                    "{\"prompt_tokens\":\(promptTokens),\"total_tokens\":\(promptTokens + produced),"
                    + "\"completion_tokens\":\(produced),\"prompt_tokens_details\":{\"cached_tokens\":\(cached)}}"
                try await writer.write(ByteBuffer(string: "data: \(head)],\"usage\":\(usage)}\n\n"))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}
