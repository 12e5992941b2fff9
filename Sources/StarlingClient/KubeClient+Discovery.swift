import Foundation
import StarlingAPI

extension KubeClient {
    /// Whether the server serves `descriptor`'s resource, read from the discovery document of its group version
    /// (`/apis/group/version`, which every authenticated client may read). False when the group version or the
    /// resource is not served, as for a kind whose CustomResourceDefinition is not installed; other failures throw.
    public func serves(_ descriptor: ResourceDescriptor) async throws -> Bool {
        let data: Data
        do {
            data = try await send(.GET, path: descriptor.groupVersionPath, timeout: .seconds(5))
        } catch let status as Status where status.code == 404 {
            return false
        }
        let list = try StarlingJSON.decoder.decode(JSONValue.self, from: data)
        return (list["resources"]?.arrayValue ?? []).contains { $0["name"]?.stringValue == descriptor.plural }
    }
}
