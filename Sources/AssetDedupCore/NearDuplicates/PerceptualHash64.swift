/// A 64-bit DCT perceptual hash, bit-compatible in layout and text form with imagehash's `phash`.
///
/// Bit 63 (the most significant) is the DCT coefficient at row 0, column 0 of the 8x8
/// low-frequency block, bit 0 the one at row 7, column 7: row-major, first element first, which
/// is how imagehash flattens the boolean array before printing it as hex. So `description` gives
/// the same 16 hex digits as `str(imagehash.phash(img))` for the same bits.
public struct PerceptualHash64: Hashable, Sendable, CustomStringConvertible {
    /// The 64 bits; see the type's comment for the bit order.
    public let bits: UInt64

    public init(bits: UInt64) {
        self.bits = bits
    }

    /// Hamming distance: the number of differing bits, 0 (same) to 64.
    public func distance(to other: PerceptualHash64) -> Int {
        (bits ^ other.bits).nonzeroBitCount
    }

    /// 16 lowercase hex digits, zero-padded, as imagehash prints a 64-bit hash.
    public var description: String {
        let digits = String(bits, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Reads exactly 16 hex digits (either case); anything else is `invalidHex`.
    public init(hex: some StringProtocol) throws(PerceptualHashError) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 16 else {
            throw PerceptualHashError(
                .invalidHex, "a perceptual hash is 16 hex digits, got \(utf8.count) bytes of UTF-8")
        }
        var value: UInt64 = 0
        for (offset, byte) in utf8.enumerated() {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default:
                throw PerceptualHashError(
                    .invalidHex, "a perceptual hash is 16 hex digits, byte \(offset + 1) is not one")
            }
            value = value << 4 | UInt64(nibble)
        }
        self.bits = value
    }
}

extension PerceptualHash64 {
    /// The largest distance treated as "the same picture" by default: 10 of 64 bits.
    ///
    /// A match is `distance <= defaultThreshold`. imagehash users commonly take 8 to 10 for
    /// resized or re-encoded copies. Measured on the synthetic set in `PerceptualHashTests`:
    /// 50% downscale, +10% brightness and noise move detailed pictures by 0-6 bits, a 5% crop by
    /// 2-10; unrelated pictures are 18-40 apart. 10 keeps every edit and, against uniformly
    /// random hashes, expects about 0.01 false hits per query among a million assets (12 would
    /// expect 0.2). Smooth gradients are less stable (up to 18 bits under noise).
    public static let defaultThreshold = 10
}
