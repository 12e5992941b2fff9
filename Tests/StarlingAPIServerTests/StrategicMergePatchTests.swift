import Foundation
import StarlingAPI
import Testing

@testable import StarlingAPIServer

/// Strategic merge patch as kube-apiserver applies it to the core kinds: lists with merge keys merge by key.
@Suite struct StrategicMergePatchTests {
    static func json(_ text: String) -> JSONValue { try! JSONValue.parse(Data(text.utf8)) }

    static let pod = json(
        #"""
        {"spec":{"containers":[{"name":"a","image":"x","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
          "ports":[{"containerPort":80}]},{"name":"b","image":"y"}]},
         "status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Initialized","status":"True"}]}}
        """#)

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var patch: String
        var check: @Sendable (JSONValue) -> Bool
        var testDescription: String { name }
    }

    static func containers(_ v: JSONValue) -> [JSONValue] { v.value(atPath: "spec.containers")?.arrayValue ?? [] }

    static let cases: [Case] = [
        Case(
            name: "a container merges by name; the other stays",
            patch: #"{"spec":{"containers":[{"name":"b","image":"z"}]}}"#,
            check: { v in containers(v).count == 2 && containers(v)[1]["image"] == .string("z") }),
        Case(
            name: "env merges by name inside a container",
            patch: #"{"spec":{"containers":[{"name":"a","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}"#,
            check: { v in
                containers(v)[0]["env"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == ["1", "3", "4"]
            }),
        Case(
            name: "a condition merges by type",
            patch: #"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
            check: { v in
                v.value(atPath: "status.conditions")?.arrayValue?.map { $0["status"]?.stringValue ?? "" }
                    == ["True", "True"]
            }),
        Case(
            name: "$patch: delete removes an item",
            patch: #"{"spec":{"containers":[{"name":"b","$patch":"delete"}]}}"#,
            check: { v in containers(v).map { $0["name"] } == [.string("a")] }),
        Case(
            name: "$patch: replace replaces a list",
            patch: #"{"spec":{"containers":[{"$patch":"replace"},{"name":"c","image":"w"}]}}"#,
            check: { v in containers(v).map { $0["name"] } == [.string("c")] }),
        Case(
            name: "$setElementOrder is accepted",
            patch:
                #"{"$setElementOrder/spec.containers":[{"name":"a"}],"spec":{"containers":[{"name":"a","image":"q"}]}}"#,
            check: { v in containers(v)[0]["image"] == .string("q") }),
        Case(
            name: "null removes a field",
            patch: #"{"spec":{"containers":[{"name":"a","ports":null}]}}"#,
            check: { v in containers(v)[0]["ports"] == nil }),
    ]

    @Test(arguments: cases) func merges(_ c: Case) throws {
        let merged = try StrategicMergePatch.apply(Self.json(c.patch), to: Self.pod, kind: "Pod")
        #expect(c.check(merged), "\(merged)")
    }

    @Test func customResourcesAndUnknownDirectivesGet415() {
        #expect(throws: Status.self) {
            try StrategicMergePatch.apply(
                Self.json(#"{"spec":{"replicas":2}}"#), to: .object([:]), kind: "ModelService")
        }
        do {
            _ = try StrategicMergePatch.apply(Self.json(#"{"$retainKeys":["a"]}"#), to: Self.pod, kind: "Pod")
            Issue.record("accepted $retainKeys")
        } catch {
            #expect(error.code == 415)
        }
        do {
            _ = try StrategicMergePatch.apply(
                Self.json(#"{"spec":{"containers":[{"image":"no-name"}]}}"#), to: Self.pod, kind: "Pod")
            Issue.record("accepted an item without its merge key")
        } catch {
            #expect(error.code == 400)
        }
    }
}
