import Foundation
import StarlingAPI
import StarlingClient
import Testing

@testable import StarlingAPIServer

/// Paged lists are one consistent snapshot, as kube-apiserver's are: later pages show the objects as they were at
/// the first page's resourceVersion, whatever changed since; a token whose snapshot is gone answers 410.
@Suite struct ListPaginationTests {
    struct Page: Decodable {
        struct Meta: Decodable {
            var resourceVersion: String?
            var `continue`: String?
        }
        struct Item: Decodable {
            var metadata: ObjectMeta
        }
        var metadata: Meta
        var items: [Item]
    }

    static func page(_ client: KubeClient, limit: Int, token: String? = nil) async throws -> Page {
        var query = [("limit", String(limit))]
        if let token { query.append(("continue", token)) }
        let data = try await client.send(.GET, path: "/api/v1/nodes", query: query)
        return try JSONDecoder().decode(Page.self, from: data)
    }

    @Test func laterPagesComeFromTheFirstPagesSnapshot() async throws {
        try await withAPIServer { client, _ in
            for i in 0..<7 { _ = try await client.create(Node(metadata: ObjectMeta(name: "n\(i)"))) }
            let first = try await Self.page(client, limit: 3)
            #expect(first.items.map(\.metadata.name) == ["n0", "n1", "n2"])
            let token = try #require(first.metadata.continue)
            // Changes after the first page: none of them may show in the later pages.
            try await client.delete(Node.self, name: "n4")
            _ = try await client.create(Node(metadata: ObjectMeta(name: "n3a")))
            var changed = try await client.get(Node.self, name: "n5")
            changed.metadata.labels = ["changed": "yes"]
            _ = try await client.update(changed)
            let second = try await Self.page(client, limit: 3, token: token)
            #expect(second.items.map(\.metadata.name) == ["n3", "n4", "n5"])
            #expect(second.items.last?.metadata.labels == nil, "n5 as it was")
            #expect(second.metadata.resourceVersion == first.metadata.resourceVersion)
            let third = try await Self.page(client, limit: 3, token: try #require(second.metadata.continue))
            #expect(third.items.map(\.metadata.name) == ["n6"])
            #expect(third.metadata.continue == nil)
            // The typed client pages through to a list with every object of one moment.
            let all = try await client.list(Node.self)
            #expect(all.items.map(\.metadata.nameOrEmpty) == ["n0", "n1", "n2", "n3", "n3a", "n5", "n6"])
        }
    }

    @Test func anExpiredOrForgedTokenIsRefused() async throws {
        try await withAPIServer { client, _ in
            for i in 0..<3 { _ = try await client.create(Node(metadata: ObjectMeta(name: "n\(i)"))) }
            let gone = ListSnapshots.encode(.init(rv: "1", snapshot: "no-such-snapshot", offset: 1))
            await #expect(
                performing: { try await Self.page(client, limit: 1, token: gone) },
                throws: { error in (error as? Status)?.code == 410 && (error as? Status)?.reason == "Expired" })
            await #expect(
                performing: { try await Self.page(client, limit: 1, token: "not base64!") },
                throws: { error in (error as? Status)?.code == 400 })
        }
    }
}
