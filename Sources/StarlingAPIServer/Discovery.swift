import StarlingAPI

/// Discovery documents (`/api`, `/apis`, resource lists, `/version`) built from the served kinds.
struct Discovery {
    /// What `/version` reports, and the OpenAPI documents name.
    static let gitVersion = "v1.31.0-starling.0.1.0"

    let descriptors: [ResourceDescriptor]

    var groups: [String] {
        var seen: [String] = []
        for d in descriptors where !d.group.isEmpty && !seen.contains(d.group) { seen.append(d.group) }
        return seen
    }

    func versions(of group: String) -> [String] {
        var seen: [String] = []
        for d in descriptors where d.group == group && !seen.contains(d.version) { seen.append(d.version) }
        return seen
    }

    func apiVersions(serverAddress: String) -> JSONValue {
        .object([
            "kind": .string("APIVersions"), "versions": .array([.string("v1")]),
            "serverAddressByClientCIDRs": .array([
                .object(["clientCIDR": .string("0.0.0.0/0"), "serverAddress": .string(serverAddress)])
            ]),
        ])
    }

    func apiGroup(_ group: String) -> JSONValue? {
        let versions = versions(of: group)
        guard !versions.isEmpty else { return nil }
        let entries: [JSONValue] = versions.map {
            .object(["groupVersion": .string("\(group)/\($0)"), "version": .string($0)])
        }
        return .object([
            "kind": .string("APIGroup"), "apiVersion": .string("v1"), "name": .string(group),
            "versions": .array(entries), "preferredVersion": entries[0],
        ])
    }

    var apiGroupList: JSONValue {
        var list = groups.compactMap { apiGroup($0) }
        for i in list.indices {
            list[i]["kind"] = nil
            list[i]["apiVersion"] = nil
        }
        return .object(["kind": .string("APIGroupList"), "apiVersion": .string("v1"), "groups": .array(list)])
    }

    func resourceList(group: String, version: String) -> JSONValue? {
        let matching = descriptors.filter { $0.group == group && $0.version == version }
        guard !matching.isEmpty else { return nil }
        var resources: [JSONValue] = []
        let verbs: [JSONValue] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
            .map { .string($0) }
        for d in matching {
            var entry: [String: JSONValue] = [
                "name": .string(d.plural), "singularName": .string(d.singular), "namespaced": .bool(d.namespaced),
                "kind": .string(d.kind), "verbs": .array(verbs),
            ]
            if !d.shortNames.isEmpty { entry["shortNames"] = .array(d.shortNames.map { .string($0) }) }
            if !d.categories.isEmpty { entry["categories"] = .array(d.categories.map { .string($0) }) }
            resources.append(.object(entry))
            let subVerbs: JSONValue = .array(["get", "patch", "update"].map { .string($0) })
            if d.hasStatus {
                resources.append(
                    .object([
                        "name": .string("\(d.plural)/status"), "singularName": .string(""),
                        "namespaced": .bool(d.namespaced), "kind": .string(d.kind), "verbs": subVerbs,
                    ]))
            }
            if d.hasScale {
                resources.append(
                    .object([
                        "name": .string("\(d.plural)/scale"), "singularName": .string(""),
                        "namespaced": .bool(d.namespaced), "group": .string("autoscaling"), "version": .string("v1"),
                        "kind": .string("Scale"), "verbs": subVerbs,
                    ]))
            }
            if d.kind == "Pod" {
                resources.append(
                    .object([
                        "name": .string("pods/binding"), "singularName": .string(""), "namespaced": .bool(true),
                        "kind": .string("Binding"), "verbs": .array([.string("create")]),
                    ]))
            }
        }
        return .object([
            "kind": .string("APIResourceList"), "apiVersion": .string("v1"),
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources),
        ])
    }

    /// `/openapi/v3`: one document per group version.
    var openAPIIndex: JSONValue {
        var paths: [String: JSONValue] = [:]
        for d in descriptors {
            let gv = d.group.isEmpty ? "api/\(d.version)" : "apis/\(d.group)/\(d.version)"
            paths[gv] = .object(["serverRelativeURL": .string("/openapi/v3/\(gv)")])
        }
        return .object(["paths": .object(paths)])
    }

    /// `/openapi/v3/<group-version>`: a schema per kind naming its group, version and kind. Fields are left open
    /// (`x-kubernetes-preserve-unknown-fields`) because the server itself checks every object strictly.
    func openAPIDocument(_ groupVersion: String) -> JSONValue? {
        let matching = descriptors.filter {
            ($0.group.isEmpty ? "api/\($0.version)" : "apis/\($0.group)/\($0.version)") == groupVersion
        }
        guard !matching.isEmpty else { return nil }
        var schemas: [String: JSONValue] = [:]
        var paths: [String: JSONValue] = [:]
        for d in matching {
            // Operations that take `fieldValidation`, so clients leave validation to the server (which is always
            // strict: unknown fields and invalid values are rejected).
            let gvk: JSONValue = .object([
                "group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind),
            ])
            let parameters: JSONValue = .array([
                .object([
                    "name": .string("fieldValidation"), "in": .string("query"),
                    "schema": .object(["type": .string("string")]),
                ])
            ])
            let prefix =
                d.group.isEmpty ? "io.k8s.api.core" : d.group.split(separator: ".").reversed().joined(separator: ".")
            let schemaRef: JSONValue = .object([
                "$ref": .string("#/components/schemas/\(prefix).\(d.version).\(d.kind)")
            ])
            let statusRef: JSONValue = .object([
                "$ref": .string("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status")
            ])
            func responses(_ ok: JSONValue) -> JSONValue {
                // Every error is a Kubernetes Status.
                .object([
                    "200": .object([
                        "description": .string("OK"),
                        "content": .object(["application/json": .object(["schema": ok])]),
                    ]),
                    "default": .object([
                        "description": .string("an error, as a Status"),
                        "content": .object(["application/json": .object(["schema": statusRef])]),
                    ]),
                ])
            }
            func query(_ name: String, _ type: String) -> JSONValue {
                .object(["name": .string(name), "in": .string("query"), "schema": .object(["type": .string(type)])])
            }
            func pathParameter(_ name: String) -> JSONValue {
                .object([
                    "name": .string(name), "in": .string("path"), "required": .bool(true),
                    "schema": .object(["type": .string("string")]),
                ])
            }
            let body: JSONValue = .object([
                "required": .bool(true), "content": .object(["application/json": .object(["schema": schemaRef])]),
            ])
            let patchBody: JSONValue = .object([
                "required": .bool(true),
                "content": .object([
                    "application/merge-patch+json": .object(["schema": .object(["type": .string("object")])])
                ]),
            ])
            func operation(_ id: String, _ extra: [JSONValue] = [], body: JSONValue? = nil, ok: JSONValue) -> JSONValue
            {
                var op: [String: JSONValue] = [
                    "operationId": .string("\(id)\(d.kind)"), "x-kubernetes-group-version-kind": gvk,
                    "parameters": .array((parameters.arrayValue ?? []) + extra), "responses": responses(ok),
                ]
                if let body { op["requestBody"] = body }
                return .object(op)
            }
            let scopes = d.namespaced ? [pathParameter("namespace")] : []
            let listOK: JSONValue = .object(["type": .string("object")])
            let base = "/" + groupVersion + (d.namespaced ? "/namespaces/{namespace}" : "") + "/\(d.plural)"
            paths[base] = .object([
                "get": operation(
                    "list",
                    scopes + [
                        query("labelSelector", "string"), query("fieldSelector", "string"),
                        query("limit", "integer"), query("continue", "string"),
                    ], ok: listOK),
                "post": operation("create", scopes, body: body, ok: schemaRef),
            ])
            let named = scopes + [pathParameter("name")]
            paths[base + "/{name}"] = .object([
                "get": operation("read", named, ok: schemaRef),
                "put": operation("replace", named, body: body, ok: schemaRef),
                "patch": operation("patch", named, body: patchBody, ok: schemaRef),
                "delete": operation("delete", named + [query("gracePeriodSeconds", "integer")], ok: listOK),
            ])
            if d.hasStatus {
                paths[base + "/{name}/status"] = .object([
                    "get": operation("readStatus", named, ok: schemaRef),
                    "put": operation("replaceStatus", named, body: body, ok: schemaRef),
                    "patch": operation("patchStatus", named, body: patchBody, ok: schemaRef),
                ])
            }
            if d.hasScale {
                let scaleRef: JSONValue = .object([
                    "$ref": .string("#/components/schemas/io.k8s.api.autoscaling.v1.Scale")
                ])
                paths[base + "/{name}/scale"] = .object([
                    "get": operation("readScale", named, ok: scaleRef),
                    "put": operation(
                        "replaceScale", named,
                        body: .object([
                            "required": .bool(true),
                            "content": .object(["application/json": .object(["schema": scaleRef])]),
                        ]), ok: scaleRef),
                ])
                schemas["io.k8s.api.autoscaling.v1.Scale"] = .object([
                    "type": .string("object"),
                    "properties": .object([
                        "apiVersion": .object(["type": .string("string")]),
                        "kind": .object(["type": .string("string")]),
                        "metadata": .object(["type": .string("object")]),
                        "spec": .object([
                            "type": .string("object"),
                            "properties": .object(["replicas": .object(["type": .string("integer")])]),
                        ]),
                    ]),
                ])
            }
            schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Status"] = .object([
                "type": .string("object"), "required": .array([.string("kind"), .string("code")]),
                "properties": .object([
                    "kind": .object(["type": .string("string"), "enum": .array([.string("Status")])]),
                    "apiVersion": .object(["type": .string("string")]),
                    "status": .object(["type": .string("string")]),
                    "message": .object(["type": .string("string")]),
                    "reason": .object(["type": .string("string")]),
                    "code": .object(["type": .string("integer")]),
                ]),
            ])
            let open: JSONValue = .object([
                "type": .string("object"), "x-kubernetes-preserve-unknown-fields": .bool(true),
            ])
            schemas["\(prefix).\(d.version).\(d.kind)"] = .object([
                "type": .string("object"),
                "x-kubernetes-preserve-unknown-fields": .bool(true),
                "x-kubernetes-group-version-kind": .array([
                    .object(["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)])
                ]),
                "properties": .object([
                    "apiVersion": .object(["type": .string("string")]), "kind": .object(["type": .string("string")]),
                    "metadata": open, "spec": open, "status": open,
                ]),
            ])
        }
        return .object([
            "openapi": .string("3.0.0"),
            "info": .object(["title": .string("Starling"), "version": .string(matching[0].version)]),
            "paths": .object(paths), "components": .object(["schemas": .object(schemas)]),
        ])
    }

    static let version: JSONValue = .object([
        "major": .string("1"), "minor": .string("31"), "gitVersion": .string(Discovery.gitVersion),
        "gitCommit": .string(""), "gitTreeState": .string("clean"), "buildDate": .string("2026-11-22T00:00:00Z"),
        "goVersion": .string("swift6"), "compiler": .string("swift"), "platform": .string("linux/amd64"),
    ])
}
