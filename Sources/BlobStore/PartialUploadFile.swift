import AssetDedupCore
import BlobProtocols
import CLinuxIO

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes a resumable upload has so far, at `<data>/uploads/<id>.partial`.
///
/// Appends go to the end with `pwrite` into blocks reserved for them (`fallocate` with
/// `KEEP_SIZE`, so the size stays the offset), and the kernel is told to start writing each
/// piece out at once (`sync_file_range`). What may be recorded after an append (`sync`):
/// - bytes in the page cache survive a crash of the app, nginx or the database, so an append is
///   acknowledged once there, and `fdatasync` runs only every `syncInterval` bytes and on an
///   upload's last append (before it becomes a blob);
/// - a power loss or kernel crash may take the bytes written since the last `fdatasync`. The
///   file says how far that reached and in which boot the rest was written (the `marker`
///   attribute, `<boot id> <synced length>`), so when opened in a later boot it is cut back to
///   its synced length and the caller rewinds the upload there (`hashState()`): a client
///   resumes from an earlier offset, and no blob ever holds bytes its digest does not cover.
///
/// A file found longer than the recorded offset (the app crashed between writing and recording)
/// is cut back by `open(recordedOffset:)`, so file and record always agree. On a file system
/// without user attributes every append is `fdatasync`ed, as every file was before markers.
public final class PartialUploadFile: PartialUpload {
    /// Bytes appended between two `fdatasync`s: what a power loss may take back at most.
    public static let syncInterval: Int64 = 64 << 20
    /// How far behind the end appended pages stay in the page cache: older ones are written out
    /// and dropped, so the next appends reuse their memory instead of taking new pages.
    static let cacheWindow: Int64 = 8 << 20
    /// The attribute that holds `<boot id> <synced length>`.
    static let markerName = "user.assetdedup.synced"

    public let path: String
    private let fd: Int32
    /// The file's length: the recorded offset plus what this owner appended since.
    public private(set) var length: Int64
    /// The length the last `fdatasync` covered (everything, if `marked` is false).
    private var synced: Int64
    /// End of the blocks reserved so far.
    private var reserved: Int64
    /// Pages before this offset were written out and dropped from the page cache.
    private var dropped: Int64
    /// Whether the file carries the marker; without it every sync is an `fdatasync`.
    private var marked: Bool
    private let bootID: String
    private let interval: Int64

    /// Creates an empty file exclusively (an upload id is never reused) with its marker, and
    /// makes both durable before the caller records the upload, so a recorded upload always
    /// has its file, and a file written without `fdatasync` always says so.
    public init(
        creating path: String, bootID: String = PartialUploadFile.currentBootID, syncInterval: Int64 = syncInterval
    )
        throws
    {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError("create", path: path) }
        self.fd = fd
        self.path = path
        self.length = 0
        self.synced = 0
        self.reserved = 0
        self.dropped = 0
        self.bootID = bootID
        self.interval = syncInterval
        self.marked = false
        do {
            marked = Self.setMarker(fd, bootID: bootID, synced: 0)
            try sys("fsync", path) { Int(fsync(fd)) }
            try BlobStore.syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]))
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Opens an existing file and cuts it back to `recordedOffset` when a crash of the app left
    /// more; opened in a later boot than its unsynced appends, to its synced length when that is
    /// shorter (then `length < recordedOffset`: the caller rewinds the upload). A file shorter
    /// than what it must hold lost data it had made durable: that is an error.
    public init(
        opening path: String, recordedOffset: Int64, bootID: String = PartialUploadFile.currentBootID,
        syncInterval: Int64 = syncInterval
    ) throws {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path: path) }
        self.fd = fd
        self.path = path
        self.bootID = bootID
        self.interval = syncInterval
        do {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw FileError("fstat", path: path) }
            var trusted = recordedOffset
            let marker = Self.marker(fd)
            if let marker, marker.bootID != bootID {
                trusted = min(recordedOffset, marker.synced)
            }
            if info.st_size < trusted {
                throw FileError("open (shorter than its recorded offset)", path: path, errno: EIO)
            }
            if info.st_size > trusted {
                try sys("ftruncate", path) { Int(ftruncate(fd, off_t(trusted))) }
            }
            length = trusted
            reserved = trusted
            dropped = max(0, trusted - Self.cacheWindow)
            // A file without a marker was synced on every append (or cannot carry one).
            synced = marker.map { min($0.synced, trusted) } ?? trusted
            marked = false
            if marker?.bootID != bootID || marker?.synced != synced {
                marked = Self.setMarker(fd, bootID: bootID, synced: synced)
                // A new marker, a lower synced length or a cut-back file must be on the disk
                // before anything past them is recorded.
                if marker == nil || synced < marker!.synced || info.st_size > trusted {
                    try sys("fsync", path) { Int(fsync(fd)) }
                }
            } else {
                marked = true
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Reserves the blocks for `count` more bytes at the end (the body about to be appended),
    /// so the appends allocate nothing; where reserving is not supported, nothing happens.
    public func reserve(_ count: Int64) {
        let end = length + count
        guard count > 0, end > reserved else { return }
        if clinuxio_reserve(fd, off_t(max(length, reserved)), off_t(end - max(length, reserved))) == 0 {
            reserved = end
        }
    }

    /// Appends one chunk at the end and starts writing it to the disk.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var written = 0
        while written < bytes.count {
            let count = try sys("write", path) {
                pwrite(fd, base + written, bytes.count - written, off_t(length) + off_t(written))
            }
            written += count
        }
        _ = clinuxio_start_writeback(fd, off_t(length), off_t(bytes.count))
        length += Int64(bytes.count)
        reserved = max(reserved, length)
        dropBehind()
    }

    /// Writes out and drops the pages more than `cacheWindow` behind the end, in steps of at least
    /// 1 MiB: an upload is not read back (its completion renames the file), and pages it keeps
    /// take fresh memory for every append (on this VM the kernel's copy into fresh pages was 70%
    /// of serve's CPU; into reused ones a fifth of that). Waiting here for the write of bytes
    /// appended a window ago also keeps the disk in step with the appends, so the next
    /// `fdatasync` has little left to do. Failures are left to `fdatasync` to report.
    private func dropBehind() {
        let behind = length - Self.cacheWindow
        guard behind - dropped >= 1 << 20 else { return }
        if clinuxio_write_out(fd, off_t(dropped), off_t(behind - dropped)) == 0 {
            _ = posix_fadvise(fd, off_t(dropped), off_t(behind - dropped), Int32(POSIX_FADV_DONTNEED))
        }
        dropped = behind
    }

    /// Makes the appended bytes safe to record: `fdatasync` when `durable`, when the file has no
    /// marker, or when `syncInterval` bytes have been appended since the last one; otherwise they
    /// are in the page cache, which only a power loss or kernel crash takes (see the type).
    public func sync(durable: Bool) throws {
        guard durable || !marked || length - synced >= interval else { return }
        try sys("fdatasync", path) { Int(fdatasync(fd)) }
        synced = length
        if marked { marked = Self.setMarker(fd, bootID: bootID, synced: synced) }
    }

    /// Cuts the file back to `offset` (a failed append, e.g. the disk filled): nothing of it
    /// stays. A synced length above `offset` comes down, on the disk, before anything is
    /// appended over it.
    public func truncate(to offset: Int64) throws {
        try sys("ftruncate", path) { Int(ftruncate(fd, off_t(offset))) }
        length = offset
        reserved = offset
        dropped = min(dropped, offset)
        if synced > offset {
            synced = offset
            if marked {
                marked = Self.setMarker(fd, bootID: bootID, synced: synced)
                try sys("fsync", path) { Int(fsync(fd)) }
            }
        }
    }

    /// The SHA-256 state of the bytes the file holds, read from the start: what the record
    /// gets when the file was cut back below it.
    public func hashState() throws -> [UInt8] {
        var hasher = ResumableSHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < length {
            let want = Int(min(Int64(buffer.count), length - offset))
            let got = try sys("read", path) { pread(fd, buffer.baseAddress, want, off_t(offset)) }
            guard got > 0 else { throw FileError("read (shorter than \(length))", path: path, errno: EIO) }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            offset += Int64(got)
        }
        return hasher.state
    }

    // MARK: The marker

    /// This boot's id (`/proc/sys/kernel/random/boot_id`): a new one after every restart of the
    /// machine. Empty when it cannot be read: then no file is marked and every append is synced.
    public static let currentBootID: String = {
        guard let bytes = try? LocalFiles.readPrefix(path: "/proc/sys/kernel/random/boot_id", count: 64) else {
            return ""
        }
        return String(decoding: bytes.prefix { $0 > 32 }, as: UTF8.self)
    }()

    /// Writes the marker; false when the file system keeps no user attributes (or no boot id).
    static func setMarker(_ fd: Int32, bootID: String, synced: Int64) -> Bool {
        guard !bootID.isEmpty else { return false }
        let text = "\(bootID) \(synced)"
        return text.withCString { clinuxio_set_attribute(fd, markerName, $0, strlen($0)) } == 0
    }

    /// The marker the file carries, or nil (written before markers, or not markable).
    static func marker(_ fd: Int32) -> (bootID: String, synced: Int64)? {
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { clinuxio_get_attribute(fd, markerName, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let parts = String(decoding: bytes[0..<count], as: UTF8.self).split(separator: " ")
        guard parts.count == 2, let synced = Int64(parts[1]), synced >= 0 else { return nil }
        return (String(parts[0]), synced)
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
        // A blob is not an upload: its marker would follow it into providers' hard links.
        _ = clinuxio_remove_attribute(partial, PartialUploadFile.markerName)
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
