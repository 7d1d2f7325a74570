import AssetDedupCore
import BlobProtocols

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes a resumable upload has so far, at `<data>/uploads/<id>.partial`.
///
/// Appends go to the end with `pwrite` and are made durable with `fdatasync` before the caller
/// records the new offset; a file found longer than the recorded offset (a crash between the
/// two) is cut back by `open(recordedOffset:)`, so file and record always agree.
public final class PartialUploadFile: PartialUpload {
    public let path: String
    private let fd: Int32
    /// The file's length: the recorded offset plus what this owner appended since.
    public private(set) var length: Int64

    /// Creates an empty file exclusively (an upload id is never reused) and makes its name
    /// durable before the caller records the upload, so a recorded upload always has its file.
    public init(creating path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError("create", path: path) }
        self.fd = fd
        self.path = path
        self.length = 0
        do {
            try BlobStore.syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]))
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Opens an existing file and cuts it back to `recordedOffset` when a crash left more.
    /// A file shorter than the record lost data it had acknowledged: that is an error.
    public init(opening path: String, recordedOffset: Int64) throws {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path: path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = FileError("fstat", path: path)
            close(fd)
            throw error
        }
        if info.st_size < recordedOffset {
            close(fd)
            throw FileError("open (shorter than its recorded offset)", path: path, errno: EIO)
        }
        if info.st_size > recordedOffset {
            do {
                try sys("ftruncate", path) { Int(ftruncate(fd, off_t(recordedOffset))) }
            } catch {
                close(fd)
                throw error
            }
        }
        self.fd = fd
        self.path = path
        self.length = recordedOffset
    }

    deinit { close(fd) }

    /// Appends one chunk at the end.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var written = 0
        while written < bytes.count {
            let count = try sys("write", path) {
                pwrite(fd, base + written, bytes.count - written, off_t(length) + off_t(written))
            }
            written += count
        }
        length += Int64(bytes.count)
    }

    /// Makes the appended bytes durable; only then may the caller record the new offset.
    public func sync() throws {
        try sys("fdatasync", path) { Int(fdatasync(fd)) }
    }

    /// Cuts the file back to `offset` (a failed append, e.g. the disk filled): nothing of it stays.
    public func truncate(to offset: Int64) throws {
        try sys("ftruncate", path) { Int(ftruncate(fd, off_t(offset))) }
        length = offset
    }
}

extension BlobStore {
    /// Where the partial bytes of upload `id` live.
    public func partialPath(upload id: String) -> String { "\(uploadsDirectory)/\(id).partial" }

    public func createPartial(upload id: String) throws -> any PartialUpload {
        try PartialUploadFile(creating: partialPath(upload: id))
    }

    public func openPartial(upload id: String, recordedOffset: Int64) throws -> any PartialUpload {
        try PartialUploadFile(opening: partialPath(upload: id), recordedOffset: recordedOffset)
    }

    public func copyPartial(upload id: String, length: Int64, into writer: HashingFileWriter) throws {
        let before = writer.size
        try writer.copy(from: partialPath(upload: id))
        guard writer.size - before == length else {
            throw FileError(
                "copy (upload \(id) holds \(writer.size - before) bytes, not \(length))", path: partialPath(upload: id),
                errno: EIO)
        }
    }

    public func hasPartial(upload id: String) -> Bool { access(partialPath(upload: id), F_OK) == 0 }

    /// Publishes the finished partial file as the blob by rename (no copy, no re-read); when the
    /// blob already exists the partial file is dropped.
    public func commitPartial(upload id: String, as digest: SHA256Digest) throws {
        let partial = partialPath(upload: id)
        let target = self.path(for: digest)
        let folder = String(target[..<target.lastIndex(of: "/")!])
        try Self.makeDirectories(folder)
        if contains(digest) {
            unlink(partial)
            return
        }
        try sys("rename", partial) { Int(rename(partial, target)) }
        try Self.syncDirectory(folder)
    }

    @discardableResult
    public func removePartial(upload id: String) -> Bool { unlink(partialPath(upload: id)) == 0 }

    /// Partial files in `uploads/` not modified for `olderThanSeconds`, as upload ids: the sweep
    /// drops those without a session row (a crash between creating the file and the row).
    public func stalePartialUploads(olderThanSeconds: Double) throws -> [String] {
        let cutoff = Double(time(nil)) - olderThanSeconds
        return try Self.listFolder(uploadsDirectory).compactMap { name, info in
            guard name.hasSuffix(".partial"), Double(info.st_mtim.tv_sec) < cutoff else { return nil }
            return String(name.dropLast(".partial".count))
        }
    }
}
