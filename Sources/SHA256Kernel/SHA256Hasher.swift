/// A streaming SHA-256 (FIPS 180-4) that needs no heap, no Foundation and no libc, so the same
/// source builds natively and as Embedded Swift for `wasm32-unknown-none-wasm`.
///
/// Feed it any number of byte ranges with `update(_:)`, then `finalize(into:)` writes the
/// 32-byte digest and resets the hasher for the next message.
public struct SHA256Hasher: Sendable {
    /// The eight working hash words (H0...H7 in the standard).
    var h0: UInt32 = 0x6a09_e667
    var h1: UInt32 = 0xbb67_ae85
    var h2: UInt32 = 0x3c6e_f372
    var h3: UInt32 = 0xa54f_f53a
    var h4: UInt32 = 0x510e_527f
    var h5: UInt32 = 0x9b05_688c
    var h6: UInt32 = 0x1f83_d9ab
    var h7: UInt32 = 0x5be0_cd19

    /// Bytes of an incomplete block carried to the next `update` (a tuple: no heap in Embedded).
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    /// Total message length in bytes; the standard pads with it in bits.
    private var byteCount: UInt64 = 0

    /// The digest length in bytes.
    public static let digestByteCount = 32

    /// A hasher at the standard's initial state.
    public init() {}

    /// Absorbs `bytes`; whole 64-byte blocks are compressed straight from the caller's memory.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var source = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        byteCount &+= UInt64(remaining)

        if pendingCount > 0 {
            let offset = pendingCount
            let take = min(64 - offset, remaining)
            withUnsafeMutableBytes(of: &pending) { buffer in
                (buffer.baseAddress! + offset).copyMemory(from: source, byteCount: take)
            }
            pendingCount += take
            source += take
            remaining -= take
            guard pendingCount == 64 else { return }
            let block = pending
            withUnsafeBytes(of: block) { compress($0.baseAddress!, blocks: 1) }
            pendingCount = 0
        }

        let whole = remaining / 64
        if whole > 0 {
            compress(source, blocks: whole)
            source += whole * 64
            remaining -= whole * 64
        }
        if remaining > 0 {
            let count = remaining
            withUnsafeMutableBytes(of: &pending) { buffer in
                buffer.baseAddress!.copyMemory(from: source, byteCount: count)
            }
            pendingCount = count
        }
    }

    /// Pads the message, writes the 32-byte big-endian digest to `digest` and resets the hasher.
    public mutating func finalize(into digest: UnsafeMutableRawPointer) {
        let bitLength = byteCount &* 8
        // 0x80, then zeros up to 56 mod 64, then the 64-bit length.
        var padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0)
        let paddingCount = (pendingCount < 56 ? 56 : 120) - pendingCount
        withUnsafeMutableBytes(of: &padding) { $0[0] = 0x80 }
        withUnsafeBytes(of: padding) { update(UnsafeRawBufferPointer(rebasing: $0[0..<paddingCount])) }
        let length = bitLength.bigEndian
        withUnsafeBytes(of: length) { update($0) }

        // Plain stores, not an array: Embedded Swift on wasm has no allocator.
        digest.storeBytes(of: h0.bigEndian, toByteOffset: 0, as: UInt32.self)
        digest.storeBytes(of: h1.bigEndian, toByteOffset: 4, as: UInt32.self)
        digest.storeBytes(of: h2.bigEndian, toByteOffset: 8, as: UInt32.self)
        digest.storeBytes(of: h3.bigEndian, toByteOffset: 12, as: UInt32.self)
        digest.storeBytes(of: h4.bigEndian, toByteOffset: 16, as: UInt32.self)
        digest.storeBytes(of: h5.bigEndian, toByteOffset: 20, as: UInt32.self)
        digest.storeBytes(of: h6.bigEndian, toByteOffset: 24, as: UInt32.self)
        digest.storeBytes(of: h7.bigEndian, toByteOffset: 28, as: UInt32.self)
        self = SHA256Hasher()
    }
}
