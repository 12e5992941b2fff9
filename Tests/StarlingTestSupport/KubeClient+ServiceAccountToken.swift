import Foundation
import StarlingAPI
import StarlingClient

extension KubeClient {
    /// The bearer token of a service account, once kube-controller-manager has made the account (a namespace's
    /// `default` one comes a moment after the namespace) and its token controller the account's Secret (as v1.20
    /// does for every service account).
    public func serviceAccountToken(
        namespace: String, name: String, timeout: Duration = .seconds(60)
    ) async throws
        -> String
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let account: JSONValue
            do {
                account = try JSONValue.parse(
                    try await send(.GET, path: "/api/v1/namespaces/\(namespace)/serviceaccounts/\(name)"))
            } catch let status as Status where status.isNotFound {
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            if let secret = account["secrets"]?.arrayValue?.first?["name"]?.stringValue {
                let data = try JSONValue.parse(
                    try await send(.GET, path: "/api/v1/namespaces/\(namespace)/secrets/\(secret)"))
                if let encoded = data.value(atPath: "data.token")?.stringValue,
                    let decoded = Data(base64Encoded: encoded)
                {
                    return String(decoding: decoded, as: UTF8.self)
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TimedOut(what: "the token of service account \(namespace)/\(name)")
    }
}
