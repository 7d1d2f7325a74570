import AssetDedupCore

/// Where finished blobs and the partial bytes of resumable uploads live: a local folder
/// (`BlobStore`, the default) or an S3-compatible bucket (`S3BlobStorage`). Split by need, as
/// GRDB splits readers from writers: a consumer asks for the part it uses (`BlobReader`,
/// `BlobWriter`, `PartialUploads`, `CollectableBlobs`); a backend implements all of them.
///
/// Every upload is first staged on this node's disk (nginx buffers bodies there anyway) and
/// hashed while it is written; `commit` then publishes it under its content key in one step, so
/// no reader ever sees part of a blob under a content key. Implementations are immutable values,
/// safe to share between threads; calls block, bounded by the backend's own timeouts, and throw
/// `BlobStorageUnavailable` when the backend cannot be reached (the API answers 503).
public protocol BlobStorage: BlobReader, BlobWriter, PartialUploads, CollectableBlobs {}

/// Reading finished blobs (downloads, sniffing, fingerprints, verification, provider sends).
public protocol BlobReader: Sendable {
    /// Where blobs go, for logs, health and reports ("/srv/data/blobs", "s3://bucket/prefix").
    var location: String { get }
    func contains(_ digest: SHA256Digest) throws -> Bool
    /// The blob's first `count` bytes (fewer when it is shorter): what its type is sniffed from.
    func readPrefix(of digest: SHA256Digest, count: Int) throws -> [UInt8]
    /// Runs `body` with a readable local file holding the blob's bytes: the blob itself for a
    /// folder, a temporary download (removed afterwards) for a bucket.
    func withLocalFile<T>(_ digest: SHA256Digest, _ body: (String) throws -> T) throws -> T
    /// Re-reads the blob and hashes it (`verify`), in bounded memory: the folder reads its file,
    /// a bucket streams one GET through the hash (no staged copy). `read` sees each piece's
    /// length as it is hashed (`--limit-rate` paces there).
    func hashBlob(_ digest: SHA256Digest, read: (Int) -> Void) throws -> (digest: SHA256Digest, size: Int64)
    /// The blob as an object in a bucket, so a provider on the same endpoint can copy it
    /// server-side; nil for a folder.
    func remoteObject(for digest: SHA256Digest) -> BlobObject?
}

/// Writing new blobs through a hashed temp file (uploads, repairs, legacy imports).
public protocol BlobWriter: Sendable {
    /// A new local temp file, hashed as it is written (always on this node's disk).
    func makeTempWriter() throws -> HashingFileWriter
    /// A temp writer for content the client announced as `digest` before sending it: a bucket
    /// may start sending it under that key while it is written, published only if `commit` is
    /// called with the same digest. `sizeHint` is the body's length when known.
    func makeTempWriter(announced digest: SHA256Digest, sizeHint: Int64?) throws -> HashingFileWriter
    /// Publishes a finished temp file as the blob for `digest`; when the blob exists already the
    /// temp file is dropped (same content, same bytes).
    func commit(_ writer: HashingFileWriter, as digest: SHA256Digest) throws
    /// Brings an existing file (a legacy upload) into the store; returns its digest and size.
    @discardableResult func ingest(existingFile source: String) throws -> (digest: SHA256Digest, size: Int64)
}

/// The partial bytes of resumable uploads (the resumable and tus routes, their sweep).
public protocol PartialUploads: Sendable {
    /// Starts the partial bytes of resumable upload `id` (ids are never reused).
    func createPartial(upload id: String) throws -> any PartialUpload
    /// Opens upload `id`'s partial bytes at its recorded offset; anything past it (a crash
    /// between writing and recording) is dropped, anything missing before it is an error, but
    /// for a local file opened after a power loss: that may come back shorter (its `length`),
    /// at what it had made durable, and the caller rewinds the upload there.
    func openPartial(upload id: String, recordedOffset: Int64) throws -> any PartialUpload
    /// Whether upload `id` still has partial bytes (false once committed or removed).
    func hasPartial(upload id: String) throws -> Bool
    /// Publishes upload `id`'s bytes, which hash to `digest`, as that blob and drops the partial.
    func commitPartial(upload id: String, as digest: SHA256Digest) throws
    /// Appends upload `id`'s partial bytes (all `length` of them) to `writer`, hashed on the way:
    /// a tus final upload joins its partial uploads this way, in bounded memory.
    func copyPartial(upload id: String, length: Int64, into writer: HashingFileWriter) throws
    /// Drops upload `id`'s partial bytes; true when there were some.
    @discardableResult func removePartial(upload id: String) -> Bool
    /// Ids of partial uploads untouched for `olderThanSeconds` (the sweep drops those without a row).
    func stalePartialUploads(olderThanSeconds: Double) throws -> [String]
}

/// What the garbage collector needs: every blob, removal, and what crashed writers left.
public protocol CollectableBlobs: Sendable {
    /// Every blob, for garbage collection and reports.
    func forEachBlob(_ visit: (StoredBlob) throws -> Void) throws
    /// Removes one blob (gc only, after it checked nothing references it).
    func deleteBlob(_ digest: SHA256Digest) throws
    /// Temp objects a crashed writer left (unfinished multipart uploads), older than the cut-off;
    /// removes them unless `dryRun`. Returns how many and their bytes where known.
    func sweepAbandonedWrites(olderThanSeconds: Double, dryRun: Bool) throws -> (count: Int, bytes: Int64)
}

/// This node's disk area where a remote blob storage stages uploads in flight and downloads
/// (the local folder store's `tmp/`): how a bucket backend writes locally without depending on
/// the folder backend.
public protocol BlobStaging: Sendable {
    /// A temp file; `durable: false` when another store keeps the bytes (see `HashingFileWriter`).
    func makeTempWriter(durable: Bool) throws -> HashingFileWriter
    /// Staging files a crashed writer left, older than the cut-off; removed unless `dryRun`.
    func sweepAbandonedWrites(olderThanSeconds: Double, dryRun: Bool) throws -> (count: Int, bytes: Int64)
}

extension BlobStorage {
    /// The blob's SHA-256 and length, streamed (verify); `read` sees each piece's length.
    public func hashBlob(_ digest: SHA256Digest, read: (Int) -> Void) throws -> (digest: SHA256Digest, size: Int64) {
        try withLocalFile(digest) { try LocalFiles.sha256(ofFile: $0, read: read) }
    }
}

/// The appendable bytes of one resumable upload.
public protocol PartialUpload: AnyObject {
    /// The recorded offset plus what this owner appended since.
    var length: Int64 { get }
    /// Makes room for `count` more bytes (the body about to be appended) where that saves work.
    func reserve(_ count: Int64)
    /// Appends one chunk at the end.
    func append(_ bytes: UnsafeRawBufferPointer) throws
    /// Makes the appended bytes safe to record as the new offset: for a bucket durable and
    /// visible to every node; for a local file past any crash of the app, and durable when
    /// `durable` (an upload's last append) or at least every so many bytes (`PartialUploadFile`).
    func sync(durable: Bool) throws
    /// Drops what was appended past `offset` (a failed append).
    func truncate(to offset: Int64) throws
    /// The SHA-256 state of the bytes held, read again from the start: what the upload's record
    /// gets when opening cut them back below its recorded offset (a power loss, `PartialUploadFile`).
    func hashState() throws -> [UInt8]
}

extension PartialUpload {
    public func reserve(_ count: Int64) {}
}

/// One blob as listed by `forEachBlob`.
public struct StoredBlob: Sendable, Equatable {
    public let digest: SHA256Digest
    public let size: Int64
    /// Last write, unix seconds: gc leaves blobs younger than its grace period alone.
    public let modified: Double

    public init(digest: SHA256Digest, size: Int64, modified: Double) {
        self.digest = digest
        self.size = size
        self.modified = modified
    }
}

/// A blob as an object in an S3-compatible bucket.
public struct BlobObject: Sendable, Equatable {
    public let endpoint: String
    public let bucket: String
    public let key: String

    public init(endpoint: String, bucket: String, key: String) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.key = key
    }
}

/// The blob backend could not be reached (or timed out): nothing was written; try again later.
public struct BlobStorageUnavailable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension BlobWriter {
    /// A folder gains nothing from knowing the digest early: the plain temp writer.
    public func makeTempWriter(announced digest: SHA256Digest, sizeHint: Int64?) throws -> HashingFileWriter {
        try makeTempWriter()
    }

    /// Brings an existing file into the store by copying it through a temp file. Returns its
    /// digest and size. The folder store overrides this with a hard link.
    @discardableResult
    public func ingest(existingFile source: String) throws -> (digest: SHA256Digest, size: Int64) {
        let writer = try makeTempWriter()
        try writer.copy(from: source)
        let digest = try writer.finish()
        try commit(writer, as: digest)
        return (digest, writer.size)
    }
}
