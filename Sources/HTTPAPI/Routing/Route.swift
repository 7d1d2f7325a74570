import StoreProtocols

/// One route of the API: a method, a path pattern under `/api/v1` with named parameters
/// (`/assets/{id}/providers`), who may call it, and the handler. Routes are written once, in
/// `API.routes`; the router, the metrics label, `Allow` headers and the OpenAPI coverage test
/// (`assetdedup routes`) all read that table.
public struct Route: Sendable {
    /// Who may call a route; the router checks `user` and `admin` before the handler runs.
    public enum Access: Sendable {
        /// No token (health, the nginx `auth_request` targets that answer 401 themselves).
        case anyone
        /// A valid token, looked up before the handler runs.
        case user
        /// A valid token, checked by the handler through the worker's token cache (`API.reading`),
        /// so a run of read-only checks skips the token query.
        case userCached
        /// An admin's token: 401 without a valid one, 403 `forbidden` for other users.
        case admin

        /// What the caller needs, as `assetdedup routes` prints it: anyone, user or admin.
        public var requirement: String {
            switch self {
            case .anyone: "anyone"
            case .user, .userCached: "user"
            case .admin: "admin"
            }
        }
    }

    typealias PlainHandler = @Sendable (API, HTTPRequest, RouteParameters) throws -> HTTPResponse
    typealias UserHandler = @Sendable (API, HTTPRequest, RouteParameters, AuthenticatedUser) throws -> HTTPResponse

    enum Handler: Sendable {
        case plain(PlainHandler)
        case authenticated(UserHandler)
    }

    public let method: String
    public let pattern: RoutePattern
    public let access: Access
    let handler: Handler
    /// Headers every answer of this route carries, errors included (tus's `Tus-Resumable`).
    var headers: [(String, String)] = []

    /// This route with `headers` on every answer.
    func answering(with headers: [(String, String)]) -> Route {
        var route = self
        route.headers = headers
        return route
    }

    /// A route that needs no token, or whose handler reads it through the token cache.
    init(_ method: String, _ pattern: RoutePattern, _ access: Access, _ handler: @escaping PlainHandler) {
        precondition(access == .anyone || access == .userCached, "user and admin routes take the user")
        self.method = method
        self.pattern = pattern
        self.access = access
        self.handler = .plain(handler)
    }

    /// A route the router authenticates first (`access` is `user` or `admin`).
    init(_ method: String, _ pattern: RoutePattern, _ access: Access, user handler: @escaping UserHandler) {
        precondition(access == .user || access == .admin, "only user and admin routes take the user")
        self.method = method
        self.pattern = pattern
        self.access = access
        self.handler = .authenticated(handler)
    }
}

/// A path pattern: literal segments and `{name}` parameters, each matching one non-empty segment.
public struct RoutePattern: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    enum Segment: Hashable, Sendable {
        case literal(String)
        case parameter(String)
    }

    let segments: [Segment]
    /// The pattern as written: the metrics label and the OpenAPI path.
    public let description: String

    public init(stringLiteral text: String) {
        precondition(text.hasPrefix("/"), "patterns start with /")
        description = text
        segments = text.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
    }

    /// How many parameters: of two patterns matching one path, the one with fewer wins, so
    /// `/assets/check-by-hash` is never read as `/assets/{id}`.
    var parameterCount: Int { segments.count { if case .parameter = $0 { true } else { false } } }

    /// The parameters, when `path` (already split at `/`) fits the pattern.
    func match(_ parts: [Substring]) -> RouteParameters? {
        guard parts.count == segments.count else { return nil }
        var values: [(String, String)] = []
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text): guard part == text else { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                values.append((name, String(part)))
            }
        }
        return RouteParameters(values: values)
    }
}

/// The values of a matched pattern's `{name}` parameters.
public struct RouteParameters: Sendable {
    let values: [(String, String)]

    public subscript(_ name: String) -> String {
        guard let value = values.first(where: { $0.0 == name })?.1 else {
            preconditionFailure("the route's pattern has no parameter {\(name)}")
        }
        return value
    }
}
