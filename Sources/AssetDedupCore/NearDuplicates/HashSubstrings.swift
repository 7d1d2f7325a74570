/// A 64-bit hash as 4 substrings of 16 bits, the keys of multi-index hashing: two hashes within
/// distance d agree within `d / 4` bits on at least one substring (pigeonhole), so a search
/// looks up, per substring, the values within that radius. Shared by the in-memory index and the
/// SQL store's four indexed substring columns, so both cut a hash the same way.
public enum HashSubstrings {
    public static let count = 4
    public static let bits = 16

    /// Substring `j` (0 = the low 16 bits).
    @inline(__always)
    public static func substring(_ hash: UInt64, _ j: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: hash >> (j * bits))
    }

    /// The 16-bit masks with at most `radius` bits set, fewest first: XORed with a substring they
    /// give every value within `radius` of it (1, 17, 137, 697, 2,517 values for radius 0...4).
    public static func masks(within radius: Int) -> ArraySlice<UInt16> {
        masksByWeight[..<neighbourCount[max(0, min(radius, bits))]]
    }

    /// All 16-bit masks ordered by popcount, so the first `neighbourCount[r]` are those within r.
    private static let masksByWeight: [UInt16] = (0...UInt16.max).sorted {
        ($0.nonzeroBitCount, $0) < ($1.nonzeroBitCount, $1)
    }

    /// `neighbourCount[r]` = number of 16-bit values within r bits of a given one.
    private static let neighbourCount: [Int] = (0...bits).map { r in
        masksByWeight.reduce(0) { $0 + ($1.nonzeroBitCount <= r ? 1 : 0) }
    }
}
