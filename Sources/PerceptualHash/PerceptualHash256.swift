#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 256-bit DCT hash in the shape of Facebook's PDQ, with PDQ's quality score, so a picture with
/// nothing in it (flat or near-flat) can be kept out of matching instead of hashing to noise.
///
/// Why beside the 64-bit pHash (docs/DESIGN.md, "Near-duplicates: accuracy on real photographs"):
/// on real photos the 64-bit hash lets a white caption box dominate a dark or textured picture,
/// so captioned copies of unrelated photos match; 256 bits of the next 16x16 frequencies do
/// not. Steps: the luminance is area-averaged to 64x64 (PDQ uses a tent filter; the area average
/// is what libvips' shrink-on-load and the browser reproduce bit for bit, see `AreaResampler`),
/// DCT-II rows 1...16 of 64 along columns then rows (the DC row and column are left out, as PDQ
/// does), bit = coefficient > the median of the 256. Bit 255 (the most significant bit of
/// `words[0]`) is frequency (1, 1), row-major.
public struct PerceptualHash256: Hashable, Sendable, CustomStringConvertible {
    /// Four 64-bit words, most significant first; see the type's comment for the bit order.
    public let words: [UInt64]
    /// PDQ's quality, 0...100: the summed luminance steps between neighbouring cells of the 64x64
    /// plane, scaled as PDQ scales them. PDQ's README: below 50, do not match on the hash.
    public let quality: Int

    public init(words: [UInt64], quality: Int) {
        precondition(words.count == 4, "a 256-bit hash is 4 words")
        self.words = words
        self.quality = quality
    }

    /// Differing bits, 0...256.
    public func distance(to other: PerceptualHash256) -> Int {
        zip(words, other.words).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }
    }

    /// 64 lowercase hex digits, most significant word first.
    public var description: String {
        words.map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    /// PDQ's own cut-off: hashes of less quality are too flat to say anything.
    public static let minimumQuality = 50

    /// The largest distance at which a candidate found by the 64-bit hash is confirmed: 80 of
    /// 256 bits. Chosen on the tune part of `scripts/bench-accuracy` (docs/DESIGN.md): at 70
    /// crops and turns are lost, at 90 a captioned copy of one dark photo matches another's.
    public static let confirmThreshold = 80

    static let reducedSide = 64
    static let blockSide = 16

    /// `cos(pi * k * (2n + 1) / 128)` for k = 1...16 and n = 0...63: the rows of the 64-point
    /// DCT-II matrix the 16x16 block needs (the DC row is left out).
    static let dctRows: [Double] = (1...blockSide).flatMap { k in
        (0..<reducedSide).map { n in
            cos(Double.pi * Double(k) * Double(2 * n + 1) / Double(2 * reducedSide))
        }
    }
}

extension PerceptualHash256 {
    /// The hash of an 8-bit grayscale image (row-major, `width * height` bytes) and, when asked,
    /// of its mirror image, from one 64x64 reduction (mirroring the reduced plane is mirroring
    /// the image: the area weights are symmetric).
    public static func hashes(luminance: [UInt8], width: Int, height: Int, mirrored: Bool)
        throws(PerceptualHashError) -> (hash: PerceptualHash256, mirror: PerceptualHash256?)
    {
        try PerceptualHash64.checkSize(count: luminance.count, width: width, height: height)
        let reduced = luminance.withUnsafeBufferPointer {
            AreaResampler.resample($0, width: width, height: height, side: reducedSide) { Double($0) }
        }
        let quality = Self.quality(reduced64: reduced)
        let hash = PerceptualHash256(words: bits(reduced64: reduced), quality: quality)
        guard mirrored else { return (hash, nil) }
        let side = reducedSide
        var flipped = reduced
        for y in 0..<side {
            for x in 0..<side { flipped[y * side + x] = reduced[y * side + side - 1 - x] }
        }
        return (hash, PerceptualHash256(words: bits(reduced64: flipped), quality: quality))
    }

    /// PDQ's quality from its 64x64 plane: each vertical and horizontal step between neighbours
    /// as `Int((u - v) * 100 / 255)` (truncated), absolute values summed, divided by 90, at most 100.
    static func quality(reduced64 plane: [Double]) -> Int {
        let side = reducedSide
        var sum = 0
        for y in 0..<side {
            for x in 0..<side {
                let u = plane[y * side + x]
                if y + 1 < side { sum += abs(Int((u - plane[(y + 1) * side + x]) * 100 / 255)) }
                if x + 1 < side { sum += abs(Int((u - plane[y * side + x + 1]) * 100 / 255)) }
            }
        }
        return min(100, sum / 90)
    }

    /// The 256 bits of a 64x64 row-major plane: the 16x16 block of DCT frequencies 1...16,
    /// columns first, then rows, each bit = coefficient > the median (mean of the middle two).
    static func bits(reduced64 plane: [Double]) -> [UInt64] {
        let side = reducedSide
        let block = blockSide
        let d = TruncatedDCT.coefficients(of: plane, side: side, block: block, rows: dctRows)
        let sorted = d.sorted()
        let median = (sorted[127] + sorted[128]) / 2
        var words = [UInt64](repeating: 0, count: 4)
        for (i, value) in d.enumerated() where value > median {
            words[i / 64] |= 1 << UInt64(63 - i % 64)
        }
        return words
    }
}
