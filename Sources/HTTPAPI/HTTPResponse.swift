import AssetDedupCore

/// A complete response: small JSON bodies only (uploads stream in, never out).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer.
    public static func json(_ value: some JSONRepresentable, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: value.json.serialized)
    }

    /// The `{"error": {...}}` answer for an API error.
    public static func error(_ error: APIError) -> HTTPResponse {
        var response = json(ErrorEnvelope(error: error.body), status: error.status)
        response.headers += error.headers
        return response
    }

    /// The status line's reason phrase, for the CGI `Status:` header.
    public var reason: String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 410: "Gone"
        case 412: "Precondition Failed"
        case 413: "Payload Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 423: "Locked"
        case 460: "Checksum Mismatch"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 507: "Insufficient Storage"
        default: "Status"
        }
    }
}

struct ErrorEnvelope: JSONRepresentable {
    let error: APIErrorBody
    var json: JSONValue { .object([("error", error.json)]) }
}
