/// An access key pair, plus the session token that temporary (STS) credentials come with.
public struct S3Credentials: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// Where the S3-compatible server is: `url` is scheme, host and port only
/// (`http://127.0.0.1:9000`); buckets go in the path (path-style), as moto and MinIO need.
public struct S3Endpoint: Sendable {
    public var url: String
    public var region: String

    public init(url: String, region: String = "us-east-1") {
        self.url = url
        self.region = region
    }
}

/// One object as HEAD or a listing reports it.
public struct S3ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int64
    /// Unix seconds.
    public var lastModified: Double
    /// Without the quotes S3 puts around it (HEAD and listings then compare equal).
    public var etag: String?
    /// The whole object's stored SHA-256 (base64), when it has one (`HEAD` asks for it; listings
    /// do not carry it); nil too for a multipart object's composite checksum.
    public var checksumSHA256: String?

    public init(key: String, size: Int64, lastModified: Double, etag: String?, checksumSHA256: String? = nil) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
        self.checksumSHA256 = checksumSHA256
    }
}

/// A multipart upload begun and neither completed nor aborted: it holds storage until aborted.
public struct S3MultipartUploadInfo: Sendable, Equatable {
    public var key: String
    public var uploadID: String
    /// Unix seconds.
    public var initiated: Double

    public init(key: String, uploadID: String, initiated: Double) {
        self.key = key
        self.uploadID = uploadID
        self.initiated = initiated
    }
}

/// Logs and error messages may print credentials; only the access key id shows.
extension S3Credentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "<redacted>"], displayStyle: .struct)
    }
}
