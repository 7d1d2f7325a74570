import AssetDedupCore

/// A failure the client is told about: status, stable code, message, optional headers.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let body: APIErrorBody
    public let headers: [(String, String)]

    public init(status: Int, code: String, message: String, retryable: Bool? = nil, headers: [(String, String)] = []) {
        self.status = status
        self.body = APIErrorBody(code: code, message: message, retryable: retryable)
        self.headers = headers
    }

    public var description: String { "\(status) \(body.code): \(body.message)" }

    static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(status: 400, code: code, message: message)
    }
    static func invalid(_ error: ValidationError) -> APIError {
        APIError(status: 400, code: error.code.rawValue, message: error.message)
    }
    static let unauthorized = APIError(
        status: 401, code: "unauthorized", message: "missing, unknown or revoked API token",
        headers: [("WWW-Authenticate", "Bearer")])
    static let notFound = APIError(status: 404, code: "not_found", message: "no such resource")
    static let assetNotFound = APIError(status: 404, code: "not_found", message: "asset not found")
    static func methodNotAllowed(_ allowed: [String]) -> APIError {
        APIError(
            status: 405, code: "method_not_allowed", message: "use \(allowed.joined(separator: " or "))",
            headers: [("Allow", allowed.joined(separator: ", "))])
    }
    /// An upload of no bytes: nothing to deliver, nothing kept.
    static let emptyFile = APIError(status: 422, code: "empty_file", message: "the file is empty; nothing was kept")
    static func tooLarge(_ message: String) -> APIError {
        APIError(status: 413, code: "payload_too_large", message: message)
    }
    static func unsupportedMediaType(_ expected: String) -> APIError {
        APIError(status: 415, code: "unsupported_media_type", message: "Content-Type must be \(expected)")
    }
    static func unknownProvider(_ id: ProviderID) -> APIError {
        APIError(status: 422, code: "unknown_provider", message: "provider '\(id)' is not configured")
    }
    static let busy = APIError(
        status: 503, code: "busy", message: "the database is busy or unreachable; try again shortly",
        headers: [("Retry-After", "1")])
    /// `assetdedup gc` is deleting this very blob (no asset referenced it): nothing was kept; a
    /// retry a moment later stores the content afresh.
    static let blobBeingCollected = APIError(
        status: 503, code: "blob_being_collected",
        message: "this content's stored copy is being garbage-collected right now; nothing was kept, try again shortly",
        retryable: true, headers: [("Retry-After", "1")])
    /// The blob storage (an S3 bucket) could not be reached: nothing was written.
    static let storageUnavailable = APIError(
        status: 503, code: "storage_unavailable",
        message: "the blob storage is unreachable; nothing was kept, try again shortly", headers: [("Retry-After", "5")]
    )
    /// nginx named a body file that serve cannot read: nginx's `client_body_temp_path` and
    /// `serve --request-body-dir` differ, or the folder is not readable by serve. The operator's
    /// to fix (serve logs which file and why); nothing was kept.
    static let requestBodyUnavailable = APIError(
        status: 503, code: "request_body_unavailable",
        message:
            "the server cannot read the upload body nginx buffered, a configuration error (nginx's client_body_temp_path must be serve's --request-body-dir); nothing was kept"
    )
    static let noSpace = APIError(
        status: 507, code: "insufficient_storage", message: "the server's storage is full; nothing was kept")
    static let internalError = APIError(status: 500, code: "internal", message: "internal error; nothing was kept")
}
