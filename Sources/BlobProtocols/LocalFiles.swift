import AssetDedupCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads of a local file that any blob code needs (a provider's copy, a staged upload, a
/// downloaded blob), whatever the storage behind it.
public enum LocalFiles {
    /// A file's SHA-256 and length, read in 1 MiB pieces (bounded memory); `read` sees each
    /// piece's length (verify's rate limit and progress).
    public static func sha256(ofFile path: String, read observe: (Int) -> Void = { _ in }) throws -> (
        digest: SHA256Digest, size: Int64
    ) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path: path) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var hasher = ResumableSHA256()
        var size: Int64 = 0
        while true {
            let got = read(fd, buffer.baseAddress!, buffer.count)
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw FileError("read", path: path) }
            if got == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            size += Int64(got)
            observe(got)
        }
        return (hasher.finalize(), size)
    }

    /// A file's first `count` bytes (fewer when it is shorter).
    public static func readPrefix(path: String, count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path: path) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + filled, count - filled, off_t(filled))
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw FileError("read", path: path) }
            if got == 0 { break }
            filled += got
        }
        return Array(buffer.prefix(filled))
    }
}
