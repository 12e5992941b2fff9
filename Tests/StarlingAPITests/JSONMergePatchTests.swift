import Foundation
import StarlingAPI
import Testing

@Suite struct JSONMergePatchTests {
    @Test(arguments: [
        // A lost key is nulled, a changed one set, an unchanged one left out.
        ("{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"b\":5}", "{\"b\":5,\"c\":null}"),
        // Nested objects are compared key by key.
        ("{\"t\":{\"x\":1,\"y\":{\"z\":1}}}", "{\"t\":{\"y\":{}}}", "{\"t\":{\"x\":null,\"y\":{\"z\":null}}}"),
        // Arrays and scalars are taken whole.
        ("{\"l\":[1,2]}", "{\"l\":[1]}", "{\"l\":[1]}"),
        ("{\"o\":{\"k\":1}}", "{\"o\":7}", "{\"o\":7}"),
    ])
    func patchTurnsTheOldDocumentIntoTheNew(old: String, new: String, patch: String) throws {
        let before = try JSONValue.parse(Data(old.utf8))
        let after = try JSONValue.parse(Data(new.utf8))
        #expect(after.mergePatch(from: before) == (try JSONValue.parse(Data(patch.utf8))))
    }
}
