import Foundation
import StarlingAPI

/// `meta.k8s.io/v1` Table responses, which `kubectl get` asks for (`Accept: application/json;as=Table;...`): the
/// columns `starling get` prints (`ResourceTable`), the `-o wide` ones at priority 1, and each row's object as
/// PartialObjectMetadata, as kube-apiserver sends them.
enum TableResponse {
    /// Whether the request asks for a Table.
    static func wanted(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").contains { $0.contains("as=Table") && $0.contains("g=meta.k8s.io") }
    }

    static func table(kind: String, items: [JSONValue], resourceVersion: String?, continueToken: String?) -> JSONValue {
        let names = ResourceTable.columns(kind: kind, wide: true, allNamespaces: false)
        let wide = ResourceTable.wideColumns(kind: kind)
        let columns: [JSONValue] = names.enumerated().map { index, name in
            var column: [String: JSONValue] = [
                "name": .string(title(name)), "type": .string("string"), "format": .string(index == 0 ? "name" : ""),
                "description": .string(""), "priority": .int(wide.contains(name) ? 1 : 0),
            ]
            if index == 0 { column["description"] = .string("Name must be unique within a namespace.") }
            return .object(column)
        }
        let rows: [JSONValue] = items.map { item in
            .object([
                "cells": .array(
                    ResourceTable.row(item, kind: kind, wide: true, allNamespaces: false).map { .string($0) }),
                "object": .object([
                    "kind": .string("PartialObjectMetadata"), "apiVersion": .string("meta.k8s.io/v1"),
                    "metadata": item["metadata"] ?? .object([:]),
                ]),
            ])
        }
        var metadata: [String: JSONValue] = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return .object([
            "kind": .string("Table"), "apiVersion": .string("meta.k8s.io/v1"), "metadata": .object(metadata),
            "columnDefinitions": .array(columns), "rows": .array(rows),
        ])
    }

    /// `UP-TO-DATE` as `Up-to-date`: kubectl upper-cases headers again.
    static func title(_ header: String) -> String {
        header.prefix(1).uppercased() + header.dropFirst().lowercased()
    }
}
