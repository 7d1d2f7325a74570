import AssetDedupCore
import BlobProtocols
import S3

#if canImport(Glibc)
    import Glibc
#endif

/// Blobs in an S3-compatible bucket, for several nodes that share no disk.
///
/// Keys are content addresses, `<prefix>blobs/sha256/<hex>`. An upload is staged and hashed on
/// this node's disk (as with the folder store) and then sent under its content key with one PUT
/// or a multipart upload, which S3 makes visible only at its last step: no reader ever sees part
/// of a blob under a content key, and no server-side copy doubles the writes. A resumable
/// upload's bytes are objects `<prefix>uploads/<id>/<offset>`, one per append, so any node can
/// go on with it or finish it. An unreachable or timed-out bucket throws `BlobStorageUnavailable`.
public struct S3BlobStorage: BlobStorage {
    public let client: S3Client
    public let bucket: String
    /// Ends with "/" unless empty.
    public let prefix: String
    public let endpoint: String
    /// This node's staging folder (`<data>/tmp`), for uploads in flight and downloads.
    public let staging: any BlobStaging

    /// `location` is `s3://BUCKET/PREFIX`.
    public init(location: String, client: S3Client, endpoint: String, staging: any BlobStaging) throws {
        guard location.hasPrefix("s3://") else { throw S3LocationError(location) }
        let rest = location.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw S3LocationError(location) }
        var prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.staging = staging
    }

    public var location: String { "s3://\(bucket)/\(prefix)" }

    func key(for digest: SHA256Digest) -> String { "\(prefix)blobs/sha256/\(digest.hex)" }
    var uploadsPrefix: String { "\(prefix)uploads/" }
    func chunkKey(upload id: String, offset: Int64) -> String {
        let digits = String(offset)
        return "\(uploadsPrefix)\(id)/\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits)"
    }

    /// Runs one S3 call. A server's 5xx or SlowDown is tried again twice after a short backoff, as
    /// AWS asks of clients (moto also answers 500 now and then to concurrent writes of one key);
    /// a transport failure (unreachable, stalled past the timeout) is not, since it already took
    /// its time. What is still transient becomes `BlobStorageUnavailable`: the API answers 503.
    func s3<T>(_ what: String, _ call: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try call()
            } catch let error as S3Error where error.isTransient {
                guard error.status != nil, attempt < 3 else {
                    throw BlobStorageUnavailable("\(what) on \(location): \(error)")
                }
                usleep(useconds_t(Double.random(in: 0.5...1) * 200_000 * Double(attempt * attempt)))
            }
        }
    }

    /// Staged files are scratch here (the bucket is the durable copy): no fdatasync.
    public func makeTempWriter() throws -> HashingFileWriter { try staging.makeTempWriter(durable: false) }

    /// When the client announced the digest (our form sends `sha256` before `file`) and the
    /// bucket does not hold that blob yet, parts go out while the body is still being received:
    /// the upload overlaps the staging instead of following it (bench-s3: the time before the
    /// first part was what kept the app below `aws s3 cp`). Nothing is visible under the key
    /// until `commit` with the same digest; a mismatch or a failed request aborts it.
    public func makeTempWriter(announced digest: SHA256Digest, sizeHint: Int64?) throws -> HashingFileWriter {
        let writer = try makeTempWriter()
        let key = key(for: digest)
        if try s3("HEAD", { try client.headObject(bucket: bucket, key: key) }) == nil {
            writer.follower = EarlyUpload(
                digest: digest,
                upload: S3StreamingUpload(
                    client: client, bucket: bucket, key: key, path: writer.path, sizeHint: sizeHint))
        }
        return writer
    }

    public func commit(_ writer: HashingFileWriter, as digest: SHA256Digest) throws {
        let key = key(for: digest)
        if let early = writer.follower as? EarlyUpload, early.digest == digest {
            // On any failure of the early parts, fall back to sending the staged file anew.
            if (try? early.upload.complete(size: writer.size)) == true { return }
        }
        if try s3("HEAD", { try client.headObject(bucket: bucket, key: key) }) != nil { return }
        try s3("upload", { try client.uploadFile(bucket: bucket, key: key, path: writer.path) })
        // The writer's deinit removes the staged file.
    }

    public func contains(_ digest: SHA256Digest) throws -> Bool {
        try s3("HEAD", { try client.headObject(bucket: bucket, key: key(for: digest)) }) != nil
    }

    /// Downloads the blob into a staging file for the call; the file goes afterwards.
    public func readPrefix(of digest: SHA256Digest, count: Int) throws -> [UInt8] {
        try s3("GET", { try client.getObjectPrefix(bucket: bucket, key: key(for: digest), count: count) })
    }

    public func withLocalFile<T>(_ digest: SHA256Digest, _ body: (String) throws -> T) throws -> T {
        let writer = try staging.makeTempWriter(durable: false)
        let path = writer.path
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path: path) }
        do {
            defer { close(fd) }
            _ = try s3("GET", { try client.getObject(bucket: bucket, key: key(for: digest), toFileDescriptor: fd) })
        }
        return try withExtendedLifetime(writer) { try body(path) }
    }

    /// One GET streamed through the hash: no staged copy, memory bounded by curl's buffer.
    public func hashBlob(_ digest: SHA256Digest, read: (Int) -> Void) throws -> (digest: SHA256Digest, size: Int64) {
        try withoutActuallyEscaping(read) { read in
            var hasher = ResumableSHA256()
            let size = try s3("GET") {
                hasher = ResumableSHA256()  // a retried GET starts over
                return try client.readObject(bucket: bucket, key: key(for: digest)) { chunk in
                    hasher.update(chunk)
                    read(chunk.count)
                }
            }
            return (hasher.finalize(), size)
        }
    }

    public func remoteObject(for digest: SHA256Digest) -> BlobObject? {
        BlobObject(endpoint: endpoint, bucket: bucket, key: key(for: digest))
    }

    // `ingest` is the protocol's: copied through a staged file, then committed.

    // MARK: Garbage collection

    public func forEachBlob(_ visit: (StoredBlob) throws -> Void) throws {
        let blobsPrefix = "\(prefix)blobs/sha256/"
        try s3("LIST") {
            try client.listObjects(bucket: bucket, prefix: blobsPrefix) { object in
                guard let digest = try? SHA256Digest(parsing: String(object.key.dropFirst(blobsPrefix.count))) else {
                    return
                }
                try visit(StoredBlob(digest: digest, size: object.size, modified: object.lastModified))
            }
        }
    }

    public func deleteBlob(_ digest: SHA256Digest) throws {
        try s3("DELETE", { try client.deleteObject(bucket: bucket, key: key(for: digest)) })
    }

    /// Multipart uploads a crashed node never completed or aborted (S3 keeps their parts, and
    /// bills them, until aborted), plus this node's abandoned staging files.
    public func sweepAbandonedWrites(olderThanSeconds: Double, dryRun: Bool) throws -> (count: Int, bytes: Int64) {
        let cutoff = Double(time(nil)) - olderThanSeconds
        var found = try staging.sweepAbandonedWrites(olderThanSeconds: olderThanSeconds, dryRun: dryRun)
        let open = try s3("LIST uploads", { try client.listMultipartUploads(bucket: bucket, prefix: prefix) })
        for upload in open where upload.initiated < cutoff {
            if !dryRun {
                try s3(
                    "ABORT",
                    { try client.abortMultipartUpload(bucket: bucket, key: upload.key, uploadID: upload.uploadID) })
            }
            found.count += 1
        }
        return found
    }
}

/// A streaming multipart upload riding on a staged file, under the digest the client announced.
/// Released with its writer; an upload never completed is aborted then.
final class EarlyUpload: WriteFollower {
    let digest: SHA256Digest
    let upload: S3StreamingUpload

    init(digest: SHA256Digest, upload: S3StreamingUpload) {
        self.digest = digest
        self.upload = upload
    }

    func written(_ total: Int64) { upload.written(total) }
}

/// `--blobs` that is not `s3://BUCKET[/PREFIX]`.
public struct S3LocationError: Error, CustomStringConvertible {
    public let location: String
    init(_ location: String) { self.location = location }
    public var description: String { "blob location must be s3://BUCKET[/PREFIX], got '\(location)'" }
}
