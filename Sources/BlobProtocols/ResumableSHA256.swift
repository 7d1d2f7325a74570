import AssetDedupCore
import CLibCrypto

/// A streaming SHA-256 whose state can be saved and restored, so a resumable upload goes on
/// hashing where the last append stopped, in another request or after a restart, and its
/// completion never re-reads the file.
///
/// Backed by libcrypto's `SHA256_CTX` (plain words; saved as its bytes): swift-crypto's hasher
/// cannot be serialised and EVP contexts are opaque. The saved form is this host's struct layout
/// (every platform we run on is little-endian, 64-bit) behind a version byte and a length check.
public struct ResumableSHA256: Sendable {
    private var context = SHA256_CTX()
    /// Bytes hashed so far.
    public private(set) var count: Int64 = 0

    /// Format tag of `state`; bump it if the layout ever changes.
    static let stateVersion: UInt8 = 1

    public init() {
        _ = clibcrypto_sha256_init(&context)
    }

    /// Resumes from a saved `state`; nil when it is not one this build wrote.
    public init?(state: [UInt8]) {
        let size = clibcrypto_sha256_state_size()
        guard state.count == 1 + 8 + size, state[0] == Self.stateVersion else { return nil }
        var count: Int64 = 0
        withUnsafeMutableBytes(of: &count) { $0.copyBytes(from: state[1..<9]) }
        withUnsafeMutableBytes(of: &context) { $0.copyBytes(from: state[9...]) }
        guard count >= 0, clibcrypto_sha256_is_valid(&context) != 0 else { return nil }
        self.count = count
    }

    /// The state to store beside the byte count it covers: version, count, `SHA256_CTX` bytes.
    public var state: [UInt8] {
        var bytes: [UInt8] = [Self.stateVersion]
        withUnsafeBytes(of: count) { bytes += $0 }
        withUnsafeBytes(of: context) { bytes += $0 }
        return bytes
    }

    /// Hashes more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        _ = clibcrypto_sha256_update(&context, base, bytes.count)
        count += Int64(bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed so far; `self` is unchanged and may go on hashing.
    public func finalize() -> SHA256Digest {
        var copy = context
        var out = [UInt8](repeating: 0, count: 32)
        _ = out.withUnsafeMutableBufferPointer { clibcrypto_sha256_final(&copy, $0.baseAddress) }
        return SHA256Digest(bytes: out)
    }
}
