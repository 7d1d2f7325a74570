import AssetDedupCore

/// An RFC 9457 `application/problem+json` answer with a problem type the resumable-upload draft
/// defines; it also carries our `{"error": {code, message}}` member so clients read one shape.
struct UploadProblem: Error {
    let status: Int
    let type: String
    let title: String
    let code: String
    let extra: [(String, JSONValue)]
    let headers: [(String, String)]

    var response: HTTPResponse {
        var members: [(String, JSONValue)] = [("type", .string(type)), ("title", .string(title))]
        members += extra
        members.append(("error", APIErrorBody(code: code, message: title).json))
        return HTTPResponse(
            status: status, headers: [("Content-Type", "application/problem+json")] + headers,
            body: JSONValue.object(members).serialized)
    }

    static let typeBase = "https://iana.org/assignments/http-problem-types#"

    /// 409: the append's `Upload-Offset` is not where the server is; it answers where it is.
    static func mismatchingOffset(expected: Int64, provided: Int64) -> UploadProblem {
        UploadProblem(
            status: 409, type: typeBase + "mismatching-upload-offset",
            title: "Upload-Offset \(provided) does not match the upload's offset \(expected)",
            code: "mismatching_upload_offset",
            extra: [("expected-offset", .int(expected)), ("provided-offset", .int(provided))],
            headers: [("Upload-Offset", String(expected))])
    }

    /// 400: the upload is complete; nothing more may be appended.
    static let completedUpload = UploadProblem(
        status: 400, type: typeBase + "completed-upload", title: "the upload is already complete",
        code: "completed_upload", extra: [], headers: [])

    /// 400: lengths disagree (Upload-Length against bytes sent, or against an earlier value).
    static func inconsistentLength(_ detail: String) -> UploadProblem {
        UploadProblem(
            status: 400, type: typeBase + "inconsistent-upload-length", title: detail,
            code: "inconsistent_upload_length", extra: [], headers: [])
    }
}
