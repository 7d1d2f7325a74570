/// A SHA-256 content hash as 64 lower-case hex characters.
///
/// Hashes arrive from clients, legacy rows and files; this type is the one place that decides
/// what a valid hash looks like, so everything past the parser can trust it.
public struct SHA256Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The canonical form: exactly 64 characters of `0-9a-f`.
    public let hex: String

    /// Parses a hash, accepting upper-case hex (normalised to lower case) and nothing else.
    public init(parsing text: String) throws(ValidationError) {
        let utf8 = text.utf8
        guard utf8.count == 64 else {
            throw ValidationError(
                code: .invalidSHA256,
                message: "sha256 must be 64 hex characters, got \(utf8.count) characters")
        }
        var lowered = [UInt8]()
        lowered.reserveCapacity(64)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"):
                lowered.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"):
                lowered.append(byte + 32)
            default:
                throw ValidationError(
                    code: .invalidSHA256, message: "sha256 must contain only hex characters 0-9, a-f")
            }
        }
        self.hex = String(decoding: lowered, as: UTF8.self)
    }

    /// Builds a digest from the 32 raw bytes a hash function produced.
    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        precondition(out.count == 64, "a SHA-256 digest has 32 bytes")
        self.hex = String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func < (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool { lhs.hex < rhs.hex }
}
