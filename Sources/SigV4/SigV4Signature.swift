/// What was signed and the result: S3's `SignatureDoesNotMatch` answer carries its own canonical request
/// and string to sign, so keeping ours makes a mismatch a text diff.
public struct SigV4Signature: Sendable, Hashable {
    public let canonicalRequest: String
    public let stringToSign: String
    /// Lower-case hex HMAC-SHA256 of the string to sign.
    public let signature: String
}

/// The outcome of header signing: the headers to add, and the path and query to send them with.
public struct SigV4SignedHeaders: Sendable, Hashable {
    /// `x-amz-date`, `x-amz-content-sha256` (S3), `x-amz-security-token` (if any), then `Authorization`.
    public let headers: [SigV4Request.Header]
    /// The path as it must be sent: each segment percent-encoded once.
    public let path: String
    /// The query as it must be sent (encoded and sorted), empty if none.
    public let query: String
    public let details: SigV4Signature

    /// `path` plus `?query` when there is one: the request target to send.
    public var pathAndQuery: String { query.isEmpty ? path : path + "?" + query }
}

/// A presigned URL's path and query (append to `https://host`), and how it was signed.
public struct SigV4PresignedURL: Sendable, Hashable {
    /// The path as it must be sent: each segment percent-encoded once.
    public let path: String
    /// The request's own query items and the `X-Amz-*` ones, encoded, ending in `X-Amz-Signature`.
    public let query: String
    public let details: SigV4Signature

    /// `path?query`, the request target a client sends.
    public var pathAndQuery: String { path + "?" + query }
}
