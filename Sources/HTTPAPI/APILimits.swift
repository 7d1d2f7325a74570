/// Size limits the API enforces itself (nginx enforces `client_max_body_size` before it).
public struct APILimits: Sendable {
    /// JSON request bodies (a batch of 1000 hashes is ~100 KB).
    public var maxJSONBytes: Int = 1 << 20
    /// Upload request bodies, multipart overhead included.
    public var maxUploadBytes: Int64 = 8 << 30
    public var maxBatchItems: Int = 1000
    public var maxPageSize: Int = 500
    /// How long an upload waits for its delivery before answering 202 `queued`
    /// (`serve --delivery-wait-seconds`). Bounded well below nginx's `fastcgi_read_timeout`;
    /// it holds a request thread meanwhile, which is why only half of them may wait at once.
    public var deliveryWaitSeconds: Double = 30
    /// A resumable upload's append lock older than this is taken over even if its owner looks
    /// alive (a hung peer, or a process on another host); appends behind nginx end long before.
    public var appendLockStaleSeconds: Double = 3600
    /// How long an upload of a video waits for its fingerprint from the background worker
    /// (`serve --fingerprint-wait-seconds`) before answering without it.
    public var fingerprintWaitSeconds: Double = 10
    /// Idle time after which an unfinished upload is swept (`serve --upload-expiry-hours`);
    /// tus's `Upload-Expires` tells clients when that is.
    public var uploadExpirySeconds: Double = 24 * 3600

    public init(maxUploadBytes: Int64 = 8 << 30) {
        self.maxUploadBytes = maxUploadBytes
    }
}
