/// A SHA-256 content hash as 64 lower-case hex characters.
///
/// Hashes arrive from clients, legacy rows and files; this type is the one place that decides
/// what a valid hash looks like, so everything past the parser can trust it.
public struct SHA256Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The canonical form: exactly 64 characters of `0-9a-f`.
    public let hex: String

    /// Parses a hash, accepting upper-case hex (normalised to lower case) and nothing else.
    public init(parsing text: String) throws(ValidationError) {
        var text = text
        let count = text.utf8.count
        guard count == 64 else {
            throw ValidationError(
                code: .invalidSHA256, message: "sha256 must be 64 hex characters, got \(count) characters")
        }
        // One pass over the contiguous bytes; the common, already canonical hash is kept as is.
        let (valid, upper) = text.withUTF8 { bytes -> (Bool, Bool) in
            var upper = false
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): continue
                case UInt8(ascii: "A")...UInt8(ascii: "F"): upper = true
                default: return (false, upper)
                }
            }
            return (true, upper)
        }
        guard valid else {
            throw ValidationError(code: .invalidSHA256, message: "sha256 must contain only hex characters 0-9, a-f")
        }
        self.hex = upper ? text.lowercased() : text
    }

    /// Builds a digest from the 32 raw bytes a hash function produced.
    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        var count = 0
        self.hex = String(unsafeUninitializedCapacity: 64) { out in
            for byte in bytes where count < 64 {
                out[count] = Self.hexDigit(byte >> 4)
                out[count + 1] = Self.hexDigit(byte & 0x0f)
                count += 2
            }
            return count
        }
        precondition(count == 64, "a SHA-256 digest has 32 bytes")
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    public var description: String { hex }

    public static func < (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool { lhs.hex < rhs.hex }
}
