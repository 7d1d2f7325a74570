import Crypto
import Foundation

/// The parts of an HTTP request that AWS Signature Version 4 covers, as plain values.
///
/// `path` and query items are given decoded (an object key as the user named it, `"/bucket/my photo.jpg"`);
/// the signer percent-encodes them, so the caller sends exactly the path and query the signer returns.
/// Every header listed here is signed, so list only headers that will be sent unchanged (`Host` always;
/// `Content-Type`, `Content-MD5`, `x-amz-*` as needed) and leave out hop-by-hop ones a proxy may rewrite.
public struct SigV4Request: Sendable, Hashable {
    /// One request header; names compare case-insensitively and repeats are joined with commas, as HTTP does.
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One query parameter, decoded; `value == nil` (`?acl`) signs the same as an empty value (`?acl=`).
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String?

        public init(_ name: String, _ value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// What the signature says about the body: S3 checks it against the bytes it receives.
    public enum Payload: Sendable, Hashable {
        /// The lower-case hex SHA-256 of the whole body; S3 rejects the upload if the body differs.
        case sha256Hex(String)
        /// `UNSIGNED-PAYLOAD`: the body is not covered (presigned URLs, or TLS-only integrity).
        case unsigned

        /// The hash of an empty body, for GET, HEAD and DELETE.
        public static let empty = Payload.sha256Hex(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        /// The hash of a body held in memory; large bodies are hashed while they are written to disk.
        public static func sha256(of body: some DataProtocol) -> Payload {
            .sha256Hex(Hex.lower(SHA256.hash(data: body)))
        }

        /// The value that goes into the canonical request and `x-amz-content-sha256`.
        public var canonicalValue: String {
            switch self {
            case .sha256Hex(let hex): hex
            case .unsigned: "UNSIGNED-PAYLOAD"
            }
        }
    }

    public var method: String
    /// The decoded absolute path, starting with `/`; an empty path signs as `/`.
    public var path: String
    public var queryItems: [QueryItem]
    public var headers: [Header]
    public var payload: Payload

    public init(
        method: String, path: String, queryItems: [QueryItem] = [], headers: [Header], payload: Payload = .empty
    ) {
        self.method = method
        self.path = path
        self.queryItems = queryItems
        self.headers = headers
        self.payload = payload
    }
}
