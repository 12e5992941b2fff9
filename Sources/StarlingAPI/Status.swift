/// The Kubernetes `Status` object that errors are reported in.
public struct Status: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    public var kind: String? = "Status"
    public var apiVersion: String? = "v1"
    public var metadata: ListMeta? = ListMeta()
    public var status: String?
    public var message: String?
    public var reason: String?
    public var details: StatusDetails?
    public var code: Int?

    public init(
        status: String = "Failure", message: String, reason: String, code: Int, details: StatusDetails? = nil
    ) {
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
        self.details = details
    }

    public var description: String { message ?? reason ?? "status \(code ?? 0)" }

    public static func success() -> Status {
        var s = Status(status: "Success", message: "", reason: "", code: 200)
        s.message = nil
        s.reason = nil
        return s
    }

    public static func notFound(_ resource: ResourceDescriptor, name: String) -> Status {
        Status(
            message: "\(resource.description) \"\(name)\" not found", reason: "NotFound", code: 404,
            details: StatusDetails(name: name, group: resource.group, kind: resource.plural))
    }

    public static func alreadyExists(_ resource: ResourceDescriptor, name: String) -> Status {
        Status(
            message: "\(resource.description) \"\(name)\" already exists", reason: "AlreadyExists", code: 409,
            details: StatusDetails(name: name, group: resource.group, kind: resource.plural))
    }

    public static func conflict(_ resource: ResourceDescriptor, name: String, detail: String) -> Status {
        Status(
            message: "Operation cannot be fulfilled on \(resource.description) \"\(name)\": \(detail)",
            reason: "Conflict", code: 409,
            details: StatusDetails(name: name, group: resource.group, kind: resource.plural))
    }

    public static func invalid(_ resource: ResourceDescriptor, name: String, errors: [FieldError]) -> Status {
        Status(
            message: "\(resource.kind) \"\(name)\" is invalid: " + errors.map(\.description).joined(separator: ", "),
            reason: "Invalid", code: 422,
            details: StatusDetails(
                name: name, group: resource.group, kind: resource.kind,
                causes: errors.map { StatusCause(reason: "FieldValueInvalid", message: $0.message, field: $0.path) }))
    }

    public static func badRequest(_ message: String) -> Status {
        Status(message: message, reason: "BadRequest", code: 400)
    }

    public static func gone(_ message: String) -> Status {
        Status(message: message, reason: "Expired", code: 410)
    }

    public static func unauthorized() -> Status {
        Status(message: "Unauthorized", reason: "Unauthorized", code: 401)
    }

    public static func methodNotAllowed(_ message: String) -> Status {
        Status(message: message, reason: "MethodNotAllowed", code: 405)
    }

    public static func unsupportedMediaType(_ message: String) -> Status {
        Status(message: message, reason: "UnsupportedMediaType", code: 415)
    }

    public static func internalError(_ message: String) -> Status {
        Status(message: "Internal error occurred: \(message)", reason: "InternalError", code: 500)
    }

    public static func pathNotFound(_ path: String) -> Status {
        Status(message: "the server could not find the requested resource (\(path))", reason: "NotFound", code: 404)
    }
}

/// `StatusDetails` of a Kubernetes `Status`.
public struct StatusDetails: Codable, Sendable, Equatable {
    public var name: String?
    public var group: String?
    public var kind: String?
    public var uid: String?
    public var causes: [StatusCause]?

    public init(name: String? = nil, group: String? = nil, kind: String? = nil, causes: [StatusCause]? = nil) {
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes
    }
}

/// One cause in `StatusDetails`.
public struct StatusCause: Codable, Sendable, Equatable {
    public var reason: String?
    public var message: String?
    public var field: String?

    public init(reason: String?, message: String?, field: String?) {
        self.reason = reason
        self.message = message
        self.field = field
    }
}

extension Status {
    /// True for 404 Not Found.
    public var isNotFound: Bool { code == 404 }
    /// True for 409 Conflict / AlreadyExists.
    public var isConflict: Bool { code == 409 }
    /// True for 410 Gone (watch history expired).
    public var isGone: Bool { code == 410 }
}
