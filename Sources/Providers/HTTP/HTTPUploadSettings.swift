/// How one `http` provider is reached: from the config file, with secrets already read from
/// the environment.
public struct HTTPUploadSettings: Sendable {
    /// How the blob travels.
    public enum Mode: String, Sendable, CaseIterable {
        /// `POST` `multipart/form-data` with the blob as a file part.
        case multipart
        /// `PUT` with the blob as the raw body.
        case put
    }

    public var url: String
    public var mode: Mode
    /// The multipart field that carries the file.
    public var fileField: String
    /// Fixed, non-secret multipart text fields (`purpose: asset`).
    public var fields: [String: String]
    public var headers: [SecretHeader]
    /// Where the provider asset id is in the JSON answer.
    public var idPath: JSONKeyPath
    /// Seconds to establish the connection.
    public var connectTimeout: Double
    /// Seconds for one whole attempt, upload and answer included.
    public var timeout: Double
    public var retry: RetryPolicy
    /// What `health()` asks (default: the upload URL); any answer below 500 counts as up.
    public var healthURL: String?
    /// Where `verify` asks whether a copy is still there (`HEAD`; `{id}` is the provider asset
    /// id, `{sha256}` the content's hash, both percent-encoded): 2xx present, 404/410 missing.
    /// Without it the provider's copies are unverifiable.
    public var presenceURL: String?

    public init(
        url: String, mode: Mode = .multipart, fileField: String = "file", fields: [String: String] = [:],
        headers: [SecretHeader] = [], idPath: JSONKeyPath = JSONKeyPath("id")!, connectTimeout: Double = 10,
        timeout: Double = 300, retry: RetryPolicy = RetryPolicy(), healthURL: String? = nil
    ) {
        self.url = url
        self.mode = mode
        self.fileField = fileField
        self.fields = fields
        self.headers = headers
        self.idPath = idPath
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.retry = retry
        self.healthURL = healthURL
    }
}
