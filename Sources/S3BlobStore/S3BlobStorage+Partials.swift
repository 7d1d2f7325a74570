import AssetDedupCore
import BlobProtocols
import S3

#if canImport(Glibc)
    import Glibc
#endif

/// Resumable uploads in the bucket: one object per append, `<prefix>uploads/<id>/<offset>`
/// (offset zero-padded, so listing order is byte order). Appends are staged on this node's disk
/// and PUT by `sync`, before the caller records the new offset; an append that was PUT but never
/// recorded (a crash between the two) is overwritten by the retry at the same offset, or dropped
/// when the upload is next opened. Any node can append to or finish any upload.
extension S3BlobStorage {
    public func createPartial(upload id: String) throws -> any PartialUpload {
        // An empty first chunk marks the upload as begun, so even a zero-byte upload has one.
        try s3("PUT", { try client.putObject(bucket: bucket, key: chunkKey(upload: id, offset: 0), bytes: []) })
        return S3PartialUpload(storage: self, id: id, length: 0)
    }

    public func openPartial(upload id: String, recordedOffset: Int64) throws -> any PartialUpload {
        var end: Int64 = 0
        for chunk in try chunks(upload: id) {
            if chunk.offset < recordedOffset {
                guard chunk.offset == end else { break }
                end += chunk.size
            } else if chunk.size > 0 {
                // PUT but never recorded (a crash between the two): drop it, keeping the marker.
                try s3("DELETE", { try client.deleteObject(bucket: bucket, key: chunk.key) })
                if chunk.offset == 0 {
                    try s3("PUT", { try client.putObject(bucket: bucket, key: chunk.key, bytes: []) })
                }
            }
        }
        guard end == recordedOffset else {
            throw FileError(
                "open (upload \(id) has \(end) of its \(recordedOffset) recorded bytes)", path: location, errno: EIO)
        }
        return S3PartialUpload(storage: self, id: id, length: recordedOffset)
    }

    public func hasPartial(upload id: String) throws -> Bool { try !chunks(upload: id).isEmpty }

    /// Joins the chunks into a staging file, checking their digest on the way (the bytes crossed
    /// the network twice), then commits that file like any upload and drops the chunks.
    public func commitPartial(upload id: String, as digest: SHA256Digest) throws {
        let chunks = try chunks(upload: id)
        if try !contains(digest) {
            let writer = try makeTempWriter()
            let scratch = try makeTempWriter()
            for chunk in chunks where chunk.size > 0 {
                let fd = open(scratch.path, O_RDWR | O_TRUNC | O_CLOEXEC)
                guard fd >= 0 else { throw FileError("open", path: scratch.path) }
                defer { close(fd) }
                _ = try s3("GET", { try client.getObject(bucket: bucket, key: chunk.key, toFileDescriptor: fd) })
                try writer.copy(from: scratch.path)
            }
            guard try writer.finish() == digest else {
                throw FileError(
                    "commit (upload \(id)'s chunks do not hash to \(digest.hex))", path: location, errno: EIO)
            }
            try commit(writer, as: digest)
        }
        for chunk in chunks { try s3("DELETE", { try client.deleteObject(bucket: bucket, key: chunk.key) }) }
    }

    public func copyPartial(upload id: String, length: Int64, into writer: HashingFileWriter) throws {
        let before = writer.size
        let scratch = try makeTempWriter()
        for chunk in try chunks(upload: id) where chunk.size > 0 && chunk.offset < length {
            let fd = open(scratch.path, O_RDWR | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else { throw FileError("open", path: scratch.path) }
            defer { close(fd) }
            _ = try s3("GET", { try client.getObject(bucket: bucket, key: chunk.key, toFileDescriptor: fd) })
            try writer.copy(from: scratch.path)
        }
        guard writer.size - before == length else {
            throw FileError(
                "copy (upload \(id) has \(writer.size - before) bytes, not \(length))", path: location, errno: EIO)
        }
    }

    @discardableResult
    public func removePartial(upload id: String) -> Bool {
        guard let chunks = try? chunks(upload: id), !chunks.isEmpty else { return false }
        for chunk in chunks { try? client.deleteObject(bucket: bucket, key: chunk.key) }
        return true
    }

    public func stalePartialUploads(olderThanSeconds: Double) throws -> [String] {
        let cutoff = Double(time(nil)) - olderThanSeconds
        var newest: [String: Double] = [:]
        try s3("LIST") {
            try client.listObjects(bucket: bucket, prefix: uploadsPrefix) { object in
                let id = String(object.key.dropFirst(uploadsPrefix.count).prefix { $0 != "/" })
                newest[id] = max(newest[id] ?? 0, object.lastModified)
            }
        }
        return newest.filter { $0.value < cutoff }.map(\.key).sorted()
    }

    /// The upload's chunk objects in offset order.
    func chunks(upload id: String) throws -> [(key: String, offset: Int64, size: Int64)] {
        let folder = "\(uploadsPrefix)\(id)/"
        var found: [(key: String, offset: Int64, size: Int64)] = []
        try s3("LIST") {
            try client.listObjects(bucket: bucket, prefix: folder) { object in
                guard let offset = Int64(object.key.dropFirst(folder.count)) else { return }
                found.append((object.key, offset, object.size))
            }
        }
        return found.sorted { $0.offset < $1.offset }
    }
}

/// One owner's appends to a resumable upload in a bucket: staged locally, PUT as one chunk
/// object at `sync`.
final class S3PartialUpload: PartialUpload {
    let storage: S3BlobStorage
    let id: String
    /// Where this owner's chunk starts: the recorded offset when opened.
    private var chunkStart: Int64
    private var staged: HashingFileWriter?
    private var stagedSynced = false
    private(set) var length: Int64

    init(storage: S3BlobStorage, id: String, length: Int64) {
        self.storage = storage
        self.id = id
        self.chunkStart = length
        self.length = length
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if staged == nil { staged = try storage.makeTempWriter() }
        try staged!.write(bytes)
        length += Int64(bytes.count)
    }

    /// PUTs the staged bytes as the chunk at `chunkStart` (durable or not: other nodes need
    /// them); the next appends start a new chunk.
    func sync(durable: Bool) throws {
        guard let writer = staged, writer.size > 0 else { return }
        _ = try writer.finish()
        let key = storage.chunkKey(upload: id, offset: chunkStart)
        try storage.s3(
            "upload",
            {
                try storage.client.uploadFile(bucket: storage.bucket, key: key, path: writer.path)
            })
        staged = nil
        chunkStart = length
    }

    /// Never needed: opening a bucket's upload never cuts it below its recorded offset.
    func hashState() throws -> [UInt8] {
        throw FileError("hash (upload \(id) is not cut back)", path: storage.location, errno: EINVAL)
    }

    func truncate(to offset: Int64) throws {
        staged = nil
        if offset < chunkStart {
            throw FileError("truncate (below this owner's chunk)", path: storage.location, errno: EINVAL)
        }
        length = offset
        chunkStart = offset
    }
}
