import AssetDedupCore
import BlobProtocols
import Foundation
import S3

/// Pushes blobs into an S3-compatible bucket, under `<prefix><sha256 hex>`.
///
/// Presence is a `HEAD` of that key, so `sync` and deliveries never send what the bucket holds
/// already (even after a crash between sending and recording). When the blob itself lives in a
/// bucket on the same endpoint (the S3 blob storage), the upload is a server-side copy and no
/// byte passes through this node. Transient failures (unreachable, timeouts, 5xx, SlowDown) are
/// retried per `RetryPolicy`; the provider asset id is the object key.
public struct S3Provider: Provider {
    public let id: ProviderID
    public var kind: String { "s3" }
    public let client: S3Client
    public let endpoint: String
    public let bucket: String
    /// Ends with "/" unless empty.
    public let prefix: String
    public let retry: RetryPolicy
    let clock: RetryClock

    public init(
        id: ProviderID, client: S3Client, endpoint: String, bucket: String, prefix: String,
        retry: RetryPolicy = RetryPolicy(budget: 3600), clock: RetryClock = .system
    ) {
        self.id = id
        self.client = client
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        self.retry = retry
        self.clock = clock
    }

    public var target: String { "\(endpoint)/\(bucket)/\(prefix)" }
    public var maxUploadSeconds: Double { retry.budget }

    func key(for blob: BlobReference) -> String { prefix + blob.sha256.hex }

    public func presence(of blob: BlobReference) throws -> ProviderPresence {
        let key = key(for: blob)
        return try retrying("HEAD \(key)") { try client.headObject(bucket: bucket, key: key) }.map { object in
            object.size == blob.size ? .present(providerAssetID: key) : .absent
        } ?? .absent
    }

    public var canDelete: Bool { true }

    public func fetchCopy(sha256: SHA256Digest, providerAssetID: String, to path: String) throws -> Bool {
        let key = prefix + sha256.hex
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        _ = try retrying("GET \(key)") { try client.getObject(bucket: bucket, key: key, toFileDescriptor: fd) }
        return true
    }

    /// `HEAD` (present, same size, and the stored SHA-256 where the bucket keeps one); `deep`
    /// reads the whole object and hashes it.
    public func verify(sha256: SHA256Digest, size: Int64, providerAssetID: String, deep: Bool) -> ProviderCopyCheck {
        let key = prefix + sha256.hex
        do {
            guard let object = try client.headObject(bucket: bucket, key: key) else { return .missing }
            guard object.size == size else { return .corrupt("\(object.size) bytes, not \(size)") }
            // The SHA-256 the bucket stored with the object, where it has one: a wrong one is a
            // different object of the same size, found without reading it.
            let expected = Data(Self.bytes(of: sha256)).base64EncodedString()
            if let stored = object.checksumSHA256, stored != expected {
                return .corrupt("its stored SHA-256 is \(stored), not \(expected)")
            }
            guard deep else { return .ok }
            // Streamed through the hash: no scratch file, memory bounded by curl's buffer.
            var hasher = ResumableSHA256()
            let length = try client.readObject(bucket: bucket, key: key) { hasher.update($0) }
            let digest = hasher.finalize()
            return digest == sha256 ? .ok : .corrupt("\(length) bytes hashing to \(digest.hex)")
        } catch let error as S3Error where !error.isTransient && error.status != nil && error.status! < 500 {
            return .corrupt("\(error.message)")
        } catch {
            return .unreachable("\(error)")
        }
    }

    /// The digest's 32 bytes, from its hex.
    static func bytes(of digest: SHA256Digest) -> [UInt8] {
        let hex = Array(digest.hex.utf8)
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }  // lower-case hex only
        return stride(from: 0, to: hex.count, by: 2).map { nibble(hex[$0]) << 4 | nibble(hex[$0 + 1]) }
    }

    /// Deletes `<prefix><sha256>` (a missing object is fine).
    public func delete(sha256: SHA256Digest, providerAssetID: String) throws {
        let key = prefix + sha256.hex
        try retrying("DELETE \(key)") { try client.deleteObject(bucket: bucket, key: key) }
    }

    /// A copy needs no local file when the blob is an object on this provider's endpoint.
    public func needsLocalFile(_ blob: BlobReference) -> Bool { blob.object?.endpoint != endpoint }

    public func upload(_ blob: BlobReference) throws -> String {
        let key = key(for: blob)
        if let source = blob.object, source.endpoint == endpoint {
            try retrying("copy to \(key)") {
                try client.copyObject(fromBucket: source.bucket, fromKey: source.key, toBucket: bucket, toKey: key)
            }
        } else {
            try retrying("upload to \(key)") {
                try client.uploadFile(bucket: bucket, key: key, path: blob.path, contentType: blob.mimeType)
            }
        }
        return key
    }

    public func health() -> ProviderHealth {
        // Any answer but a transient failure means the bucket is reachable with these keys.
        do {
            _ = try client.headObject(bucket: bucket, key: prefix + ".assetdedup-health")
            return .ok
        } catch let error as S3Error where !error.isTransient && error.status == 404 {
            return .ok
        } catch {
            return .unavailable
        }
    }

    /// Runs `call`, again after a backoff while it fails transiently and the budget lasts.
    func retrying<T>(_ what: String, _ call: () throws -> T) throws -> T {
        let start = clock.now()
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try call()
            } catch let error as S3Error {
                let wait = retry.delay(afterAttempt: attempt, retryAfter: nil)
                let elapsed = start.duration(to: clock.now()).seconds
                guard error.isTransient, attempt < retry.maxAttempts, elapsed + wait < retry.budget else {
                    throw ProviderError(
                        provider: id, retryable: error.isTransient, message: "\(what): \(error)",
                        httpStatus: error.status, attempts: attempt)
                }
                clock.sleep(wait)
            }
        }
    }
}
