import AssetDedupCore

import struct Crypto.SHA256

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a stream of chunks to a new temp file while hashing it, in constant memory.
///
/// The owner either `finish()`es (fsync, digest) and hands the file to `BlobStore.commit`, or
/// lets it go: `deinit` closes and unlinks a file that was not committed, so an aborted upload
/// leaves nothing behind.
public final class HashingFileWriter {
    public let path: String
    private var fd: Int32
    private var hasher = SHA256()
    public private(set) var size: Int64 = 0
    private var kept = false
    /// Whether `finish` makes the bytes durable: a blob's own file must be; a staged copy that
    /// is sent to a bucket (the durable place) need not pay for flushing it to this disk.
    public let durable: Bool
    /// Told the running size after each write: a bucket sends parts of the file while it grows
    /// (see `BlobStorage.makeTempWriter(announced:sizeHint:)`). Lives as long as the writer.
    public var follower: (any WriteFollower)?

    /// Creates the file exclusively (`O_EXCL`): a temp name is never shared.
    public init(path: String, durable: Bool = true) throws {
        self.durable = durable
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError("create", path: path) }
        self.fd = fd
        self.path = path
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !kept { unlink(path) }
    }

    /// Hashes and writes one chunk.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        hasher.update(bufferPointer: bytes)
        var offset = 0
        while offset < bytes.count {
            let written = try sys("write", path) { Glibc.write(fd, base + offset, bytes.count - offset) }
            offset += written
        }
        size += Int64(bytes.count)
        follower?.written(size)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (raw) throws in try write(raw) }
    }

    /// Hashes and writes the whole of an existing file, in 1 MiB reads.
    public func copy(from source: String) throws {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path: source) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try sys("read", source) { read(fd, buffer.baseAddress, buffer.count) }
            if count == 0 { break }
            try write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Flushes the data to disk and returns the content's digest. The file stays until it is
    /// committed into a `BlobStore` or this writer is released.
    public func finish() throws -> SHA256Digest {
        if durable { try sys("fsync", path) { Int(fdatasync(fd)) } }
        close(fd)
        fd = -1
        return SHA256Digest(bytes: hasher.finalize())
    }

    /// Marks the file as moved elsewhere so `deinit` does not unlink it.
    public func markKept() { kept = true }
}

/// Follows a temp file as it is written (see `HashingFileWriter.follower`).
public protocol WriteFollower: AnyObject {
    /// The file now holds `total` bytes.
    func written(_ total: Int64)
}
