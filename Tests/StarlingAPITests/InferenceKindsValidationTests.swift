import Foundation
import Testing

@testable import StarlingAPI

/// The Gateway API Inference Extension's kinds as Starling's API server checks them: every error names its field.
@Suite struct InferenceKindsValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Field paths the errors must name; empty: the object is valid.
        var fields: [String]
        var yaml: String
    }

    static let cases: [Case] = [
        .init(
            testDescription: "a valid pool, endpoint picker kept", fields: [],
            yaml: """
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  selector: {matchLabels: {app: vllm}}
                  targetPorts: [{number: 8000}, {number: 8001}]
                  endpointPickerRef: {name: epp, port: {number: 9002}, failureMode: FailClose}
                """),
        .init(
            testDescription: "a pool with no labels, a bad port and a repeated one",
            fields: ["spec.selector.matchLabels", "spec.targetPorts[0].number", "spec.targetPorts[2].number"],
            yaml: """
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: p}
                spec: {selector: {matchLabels: {}}, targetPorts: [{number: 0}, {number: 80}, {number: 80}]}
                """),
        .init(
            testDescription: "a pool with nine ports", fields: ["spec.targetPorts"],
            yaml: """
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: p}
                spec:
                  selector: {matchLabels: {app: vllm}}
                  targetPorts: [{number: 1}, {number: 2}, {number: 3}, {number: 4}, {number: 5}, {number: 6},
                    {number: 7}, {number: 8}, {number: 9}]
                """),
        .init(
            testDescription: "a pool with a misspelt field", fields: ["spec.targetPort"],
            yaml: """
                apiVersion: inference.networking.k8s.io/v1
                kind: InferencePool
                metadata: {name: p}
                spec: {selector: {matchLabels: {app: vllm}}, targetPorts: [{number: 8000}], targetPort: 1}
                """),
        .init(
            testDescription: "an objective for another kind of pool", fields: ["spec.poolRef.kind"],
            yaml: """
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: o}
                spec: {priority: 3, poolRef: {kind: Service, name: p}}
                """),
        .init(
            testDescription: "an objective without a pool", fields: ["spec.poolRef"],
            yaml: """
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceObjective
                metadata: {name: o}
                spec: {priority: 3}
                """),
        .init(
            testDescription: "a rewrite with a prefix match, an empty target list and a negative weight",
            fields: [
                "spec.rules[0].matches[0].model.type", "spec.rules[0].targets", "spec.rules[1].targets[0].weight",
            ],
            yaml: """
                apiVersion: inference.networking.x-k8s.io/v1alpha2
                kind: InferenceModelRewrite
                metadata: {name: r}
                spec:
                  poolRef: {name: p}
                  rules:
                  - matches: [{model: {type: Prefix, value: chat}}]
                    targets: []
                  - targets: [{modelRewrite: base, weight: -1}]
                """),
    ]

    @Test(arguments: cases) func errorsNameTheirFields(_ c: Case) throws {
        let document = try #require(try ManifestDecoder.documents(from: c.yaml, source: "test.yaml").first)
        var errors: [String] = []
        do {
            switch document.kind {
            case "InferencePool": _ = try ObjectDecoding.decode(document.value, as: InferencePool.self)
            case "InferenceObjective": _ = try ObjectDecoding.decode(document.value, as: InferenceObjective.self)
            default: _ = try ObjectDecoding.decode(document.value, as: InferenceModelRewrite.self)
            }
        } catch {
            errors = error.errors.map(\.path)
        }
        if c.fields.isEmpty {
            #expect(errors.isEmpty)
        }
        for field in c.fields {
            #expect(errors.contains { $0.hasPrefix(field) }, "\(field) not in \(errors)")
        }
    }
}
