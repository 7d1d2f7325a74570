// SigV4: AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for S3-compatible blob storage.
//
// Implements: the canonical request (path segments percent-encoded once for S3, twice for other
// services; query sorted and encoded; headers lower-cased, trimmed, whitespace collapsed, repeats
// joined, sorted), the string to sign, the derived signing key (kDate -> kRegion -> kService ->
// kSigning), the `Authorization` header with `x-amz-date`, `x-amz-content-sha256` and
// `x-amz-security-token`, and presigned URLs (query-string auth with `X-Amz-Expires`).
//
// Does not implement: chunked uploads (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, per-chunk signatures,
// trailers) — a later step; SigV4a (ECDSA, multi-region); path normalisation (`.`/`..`/`//`), which
// S3 does not do and other services do; POST policy forms; reading credentials from anywhere.
// No I/O, no clock: the caller passes the time, so a signature is a pure function of its inputs.

import Crypto
import Foundation

/// Signs requests for one credential, region and service, so every request to a bucket shares one setup.
public struct SigV4Signer: Sendable {
    /// An access key pair, plus the session token that temporary (STS) credentials come with.
    public struct Credentials: Sendable, Hashable {
        public var accessKeyID: String
        public var secretAccessKey: String
        public var sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// Where services differ in the canonical request; `.s3` and `.standard` are the two AWS uses.
    public struct Options: Sendable, Hashable {
        /// Encode each path segment twice in the canonical request (all services but S3).
        public var doubleEncodesPath: Bool
        /// Add and sign `x-amz-content-sha256` (S3 requires it on every request).
        public var signsContentSHA256Header: Bool

        public init(doubleEncodesPath: Bool, signsContentSHA256Header: Bool) {
            self.doubleEncodesPath = doubleEncodesPath
            self.signsContentSHA256Header = signsContentSHA256Header
        }

        /// S3 and S3-compatible stores: the path is encoded once, the payload hash is sent and signed.
        public static let s3 = Options(doubleEncodesPath: false, signsContentSHA256Header: true)
        /// Other AWS services: the path is encoded twice, no payload hash header.
        public static let standard = Options(doubleEncodesPath: true, signsContentSHA256Header: false)
    }

    static let algorithm = "AWS4-HMAC-SHA256"
    /// Headers the signer sets itself; a caller's copy is dropped so no header is sent or signed twice.
    static let ownedHeaders: Set<String> = [
        "authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token",
    ]

    public let credentials: Credentials
    public let region: String
    public let service: String
    public let options: Options

    /// `options` defaults to `.s3` when `service` is `"s3"`, otherwise `.standard`.
    public init(credentials: Credentials, region: String, service: String = "s3", options: Options? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options ?? (service == "s3" ? .s3 : .standard)
    }

    /// Signs `request` as of `date` and returns the headers to add to it (`Authorization` last).
    public func sign(_ request: SigV4Request, at date: Date) -> SigV4SignedHeaders {
        let time = AMZDate(date)
        var added = [SigV4Request.Header("x-amz-date", time.timestamp)]
        if options.signsContentSHA256Header {
            added.append(.init("x-amz-content-sha256", request.payload.canonicalValue))
        }
        if let token = credentials.sessionToken {
            added.append(.init("x-amz-security-token", token))
        }
        let headers = request.headers.filter { !Self.ownedHeaders.contains($0.name.lowercased()) } + added
        let canonical = CanonicalRequest(
            request: request, headers: headers, queryItems: request.queryItems,
            doubleEncodesPath: options.doubleEncodesPath)
        let signature = signature(of: canonical, at: time)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(time)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature.signature)"
        return SigV4SignedHeaders(
            headers: added + [.init("Authorization", authorization)], path: canonical.wirePath,
            query: canonical.query, details: signature)
    }

    /// A URL that grants `request` to whoever holds it, from `date` for `expires` seconds (1...604800).
    ///
    /// S3 presigned URLs normally carry `.unsigned` as payload. The request's headers are signed and must
    /// be sent by the URL's user exactly as given (`Host` at least).
    public func presign(_ request: SigV4Request, at date: Date, expires: Int) -> SigV4PresignedURL {
        precondition((1...604_800).contains(expires), "SigV4 presigned URLs last 1 s to 7 days")
        let time = AMZDate(date)
        let headers = request.headers.filter { !Self.ownedHeaders.contains($0.name.lowercased()) }
        let signedHeaders = CanonicalRequest.canonicalHeaders(headers).map(\.name).joined(separator: ";")
        var auth: [SigV4Request.QueryItem] = [
            .init("X-Amz-Algorithm", Self.algorithm),
            .init("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(time))"),
            .init("X-Amz-Date", time.timestamp),
            .init("X-Amz-Expires", String(expires)),
            .init("X-Amz-SignedHeaders", signedHeaders),
        ]
        if let token = credentials.sessionToken {
            auth.append(.init("X-Amz-Security-Token", token))
        }
        let canonical = CanonicalRequest(
            request: request, headers: headers, queryItems: request.queryItems + auth,
            doubleEncodesPath: options.doubleEncodesPath)
        let signature = signature(of: canonical, at: time)
        return SigV4PresignedURL(
            path: canonical.wirePath, query: canonical.query + "&X-Amz-Signature=" + signature.signature,
            details: signature)
    }

    /// `date/region/service/aws4_request`.
    func scope(_ time: AMZDate) -> String {
        "\(time.dateStamp)/\(region)/\(service)/aws4_request"
    }

    func signature(of canonical: CanonicalRequest, at time: AMZDate) -> SigV4Signature {
        let stringToSign = [
            Self.algorithm, time.timestamp, scope(time), Hex.lower(SHA256.hash(data: Array(canonical.text.utf8))),
        ].joined(separator: "\n")
        let key = signingKey(dateStamp: time.dateStamp)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)
        return SigV4Signature(canonicalRequest: canonical.text, stringToSign: stringToSign, signature: Hex.lower(mac))
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    func signingKey(dateStamp: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [dateStamp, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }
}

/// Logs and error messages may print a signer or its credentials; only the access key id shows.
extension SigV4Signer.Credentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "<redacted>"], displayStyle: .struct)
    }
}
