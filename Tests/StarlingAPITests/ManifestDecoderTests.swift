import Testing

@testable import StarlingAPI

@Suite struct ManifestDecoderTests {
    @Test func multiDocumentYAML() throws {
        let text = """
            apiVersion: v1
            kind: Node
            metadata: {name: a}
            ---
            # comment only
            ---
            apiVersion: starling.dev/v1alpha1
            kind: ModelService
            metadata: {name: b}
            spec: {model: m, server: {engine: command, command: [x]}}
            """
        let docs = try ManifestDecoder.documents(from: text, source: "f.yaml")
        #expect(docs.map(\.kind) == ["Node", "ModelService"])
        #expect(docs[1].source == "f.yaml#3")
        #expect(try ManifestDecoder.resourceType(of: docs[1]) == ModelService.self)
    }

    @Test func jsonAndListsAreAccepted() throws {
        let text =
            #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"}}]}"#
        let docs = try ManifestDecoder.documents(from: text, source: "f.json")
        #expect(docs.count == 1)
        #expect(docs[0].name == "n")
    }

    @Test func unknownKindNamesWhatIsKnown() throws {
        let docs = try ManifestDecoder.documents(from: "apiVersion: apps/v1\nkind: Deployment\n", source: "d.yaml")
        #expect(throws: ManifestError.self) { try ManifestDecoder.resourceType(of: docs[0]) }
        do {
            _ = try ManifestDecoder.resourceType(of: docs[0])
        } catch {
            #expect(error.message.contains("no kind \"Deployment\" is registered for version \"apps/v1\""))
            #expect(error.message.contains("starling.dev/v1alpha1 ModelService"))
        }
    }

    @Test func badYAMLIsAClearError() {
        #expect(throws: ManifestError.self) { try ManifestDecoder.documents(from: "a: [1, 2", source: "x.yaml") }
        #expect(throws: ManifestError.self) { try ManifestDecoder.documents(from: "- 1\n- 2\n", source: "x.yaml") }
    }
}

@Suite struct SelectorTests {
    @Test(arguments: [
        ("a=b", ["a": "b"], true), ("a=b", ["a": "c"], false), ("a!=b", [:], true),
        ("a==b,c", ["a": "b", "c": ""], true),
        ("a in (x, y)", ["a": "y"], true), ("a notin (x,y)", ["a": "y"], false), ("!a", ["b": "1"], true),
        ("a", ["b": "1"], false), ("", ["b": "1"], true),
    ])
    func labelSelectorsMatch(selector: String, labels: [String: String], expected: Bool) throws {
        #expect(try LabelSelector.parse(selector).matches(labels) == expected)
    }

    @Test func badLabelSelectorIsRejected() {
        #expect(throws: FieldError.self) { try LabelSelector.parse("a in x") }
        #expect(throws: FieldError.self) { try LabelSelector.parse("a b=c") }
    }

    @Test func fieldSelectorsCheckSupportedFields() throws {
        let pod: JSONValue = .object(["metadata": .object(["name": "p"]), "spec": .object(["nodeName": "n1"])])
        #expect(try FieldSelector.parse("spec.nodeName=n1", kind: "Pod").matches(pod))
        #expect(try FieldSelector.parse("spec.nodeName!=n1", kind: "Pod").matches(pod) == false)
        #expect(try FieldSelector.parse("metadata.name=p,spec.nodeName=", kind: "Pod").matches(pod) == false)
        #expect(throws: FieldError.self) { try FieldSelector.parse("spec.nodeName=n1", kind: "ModelService") }
    }

    @Test func mergePatchFollowsRFC7386() {
        let doc: JSONValue = .object(["a": "b", "c": .object(["d": "e", "f": "g"])])
        let patch: JSONValue = .object(["a": "z", "c": .object(["f": .null])])
        #expect(doc.merging(patch: patch) == .object(["a": "z", "c": .object(["d": "e"])]))
    }
}
