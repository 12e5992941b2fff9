import Foundation
import StarlingAPI
import Testing

/// What `starling get modelservices` (and the embedded API server's tables) print for a service mid-rollout.
@Suite struct ModelServiceTableTests {
    static let service = """
        {"apiVersion": "starling.dev/v1alpha1", "kind": "ModelService",
         "metadata": {"name": "llm", "creationTimestamp": "2026-12-05T10:00:00Z"},
         "spec": {"model": "llm-chat", "replicas": 4, "group": {"size": 2},
                  "accelerators": {"type": "H100-80GB", "count": 1}},
         "status": {"readyReplicas": 3, "updatedReplicas": 2, "updatedReadyReplicas": 2,
                    "currentRevision": "41d0be77c2", "updateRevision": "9c1f20a3e1",
                    "revisions": [{"revision": "9c1f20a3e1", "replicas": 3, "readyReplicas": 2},
                                  {"revision": "41d0be77c2", "replicas": 2, "readyReplicas": 2}],
                    "conditions": [{"type": "Available", "status": "True"}]}}
        """

    @Test func wideRowsShowEachRevisionWithItsReadyGroups() throws {
        let object = try JSONValue.parse(Data(Self.service.utf8))
        let columns = ResourceTable.columns(kind: "ModelService", wide: true, allNamespaces: false)
        let row = ResourceTable.row(object, kind: "ModelService", wide: true, allNamespaces: false)
        let cells = Dictionary(uniqueKeysWithValues: zip(columns, row))
        #expect(cells["READY"] == "3/4")
        #expect(cells["UP-TO-DATE"] == "2")
        #expect(cells["REVISIONS"] == "9c1f20a3e1 2/3, 41d0be77c2 2/2")
        #expect(cells["ACCELERATORS"] == "1 x H100-80GB")
    }

    @Test func printerColumnsNameTheRolloutCounts() {
        let columns = ModelService.printerColumns.map(\.name)
        #expect(columns.contains("Updated-ready") && columns.contains("Revision") && columns.contains("Current"))
    }
}
