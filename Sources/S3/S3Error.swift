import CurlTransport

/// A failed S3 call: the HTTP status and S3's error code when the server answered, and whether
/// the same call may work if tried again (so a caller's retry loop needs no S3 knowledge).
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// The HTTP status; nil when no answer came (could not connect, timed out) or no request was sent.
    public var status: Int?
    /// S3's `<Code>` (`NoSuchKey`, `SignatureDoesNotMatch`, `SlowDown`, ...), or our own for
    /// failures before or after the wire (`MissingEnvironment`, `InvalidResponse`, `LocalFile`).
    public var code: String?
    public var message: String
    /// Connect failures, timeouts, 5xx, 429 and `SlowDown`: true. Other 4xx and local errors: false.
    public var isTransient: Bool

    public init(status: Int?, code: String?, message: String, isTransient: Bool) {
        self.status = status
        self.code = code
        self.message = message
        self.isTransient = isTransient
    }

    public var description: String {
        var parts = ["S3 error"]
        if let status { parts.append(String(status)) }
        if let code { parts.append(code) }
        return parts.joined(separator: " ") + ": " + message
    }

    /// An answer that is not 2xx, or a 200 carrying an `<Error>` document (CompleteMultipartUpload, CopyObject).
    static func answer(status: Int, body: [UInt8], what: String) -> S3Error {
        let error = (try? S3XML.parse(body)).flatMap { $0.name == "Error" ? $0 : nil }
        let code = error?["Code"]
        let message =
            error?["Message"]
            ?? (body.isEmpty
                ? "HTTP \(status)" : "HTTP \(status): \(String(decoding: body.prefix(200), as: UTF8.self))")
        let transient =
            status >= 500 || status == 429 || code == "SlowDown" || code == "InternalError"
            || code == "RequestTimeout" || code == "ServiceUnavailable"
        return S3Error(status: status, code: code, message: "\(what): \(message)", isTransient: transient)
    }

    static func transport(_ error: CurlError, what: String) -> S3Error {
        S3Error(status: nil, code: nil, message: "\(what): \(error.message)", isTransient: error.isTransient)
    }

    static func invalidResponse(_ what: String, _ detail: String) -> S3Error {
        S3Error(status: nil, code: "InvalidResponse", message: "\(what): \(detail)", isTransient: false)
    }

    static func localFile(_ path: String, _ detail: String) -> S3Error {
        S3Error(status: nil, code: "LocalFile", message: "\(path): \(detail)", isTransient: false)
    }
}
