import AssetDedupCore

import struct Crypto.SHA256

#if canImport(Glibc)
    import Glibc
#endif

/// Copies a blob across file systems in constant memory, hashing as it goes, then fsyncs.
///
/// The hash check turns a blob damaged on disk into a clear, non-retryable error instead of a
/// provider quietly holding wrong bytes under the right name.
enum VerifiedFileCopy {
    /// The copied bytes do not hash to the blob's name.
    struct Mismatch: Error, CustomStringConvertible {
        let path: String
        let expected: SHA256Digest
        let actual: SHA256Digest
        var description: String { "blob \(path) hashes to \(actual.hex), not \(expected.hex): the blob is damaged" }
    }

    static func copy(from source: String, to target: String, expecting digest: SHA256Digest) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileSystem.Failure("open", source) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard output >= 0 else { throw FileSystem.Failure("create", target) }
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        while true {
            let count = try FileSystem.retrying("read", source) { read(input, buffer.baseAddress, buffer.count) }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hasher.update(bufferPointer: chunk)
            var offset = 0
            while offset < count {
                offset += try FileSystem.retrying("write", target) {
                    write(output, chunk.baseAddress! + offset, count - offset)
                }
            }
        }
        try FileSystem.retrying("fsync", target) { Int(fsync(output)) }
        let actual = SHA256Digest(bytes: hasher.finalize())
        guard actual == digest else { throw Mismatch(path: source, expected: digest, actual: actual) }
    }
}
