/// Why an upstream connection's answer could not be read.
enum UpstreamResponseError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case headTooLarge(Int)

    var description: String {
        switch self {
        case .malformed(let detail): "malformed answer: \(detail)"
        case .headTooLarge(let limit): "malformed answer: response head larger than \(limit) bytes"
        }
    }
}
