import Foundation

/// An error in OpenAI's shape, as vLLM returns it: `{"error": {"message", "type", "param", "code"}}`.
public struct OpenAIError: Error, Sendable, Equatable {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?

    public init(status: Int, message: String, type: String, param: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
    }

    /// 400 naming the offending field.
    public static func badRequest(_ message: String, param: String? = nil) -> Self {
        Self(status: 400, message: message, type: "BadRequestError", param: param)
    }

    /// 404 for a model (or adapter) that is not served.
    public static func modelNotFound(_ model: String) -> Self {
        Self(status: 404, message: "The model `\(model)` does not exist.", type: "NotFoundError", param: "model")
    }

    /// The JSON body.
    public var json: Data {
        var error: [String: Any] = ["message": message, "type": type, "code": status]
        error["param"] = param ?? NSNull()
        return
            (try? JSONSerialization.data(
                withJSONObject: ["error": error], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}
