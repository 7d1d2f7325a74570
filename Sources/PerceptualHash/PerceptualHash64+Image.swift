// The hash values, their matching rules and the near-duplicate index live in the core (the store
// seam needs them without the image maths); importers of PerceptualHash keep seeing them.
@_exported import AssetDedupCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension PerceptualHash64 {
    /// Side of the square the image is reduced to before the DCT (imagehash: `hash_size * highfreq_factor`).
    static let reducedSide = 32
    /// Side of the low-frequency block that becomes the 64 bits.
    static let blockSide = 8

    /// Hashes an 8-bit grayscale image (row-major, `width * height` bytes), e.g. from
    /// `Luminance.bt601(rgb:bytesPerPixel:)`.
    ///
    /// Follows imagehash's `phash(image, hash_size=8, highfreq_factor=4)` step by step: reduce to
    /// 32x32 8-bit luminance; DCT-II along columns, then rows (scipy's unnormalised `dct`; its
    /// constant factor does not change any comparison); keep the top-left 8x8 block *including*
    /// the DC term; bit = coefficient > the block's median (numpy's: mean of the two middle
    /// values of 64). One deliberate difference: the reduction is an area average (Pillow's `BOX`
    /// for whole-number ratios), where imagehash asks Pillow for Lanczos. Area averaging is what a
    /// decoder's shrink-on-load and the browser can reproduce cheaply, and it needs no support
    /// window past the image edge. How many bits that costs against imagehash's own output on the
    /// same pixels is not measured yet (no Python imaging stack on these machines).
    public init(luminance: [UInt8], width: Int, height: Int) throws(PerceptualHashError) {
        try Self.checkSize(count: luminance.count, width: width, height: height)
        let reduced = luminance.withUnsafeBufferPointer {
            AreaResampler.resample($0, width: width, height: height, side: Self.reducedSide) { Double($0) }
        }
        self.init(bits: Self.hashBits(reduced32: reduced))
    }

    /// Hashes a grayscale image given as floating-point luminance on PIL's 0...255 scale.
    public init(luminance: [Float], width: Int, height: Int) throws(PerceptualHashError) {
        try Self.checkSize(count: luminance.count, width: width, height: height)
        let reduced = luminance.withUnsafeBufferPointer {
            AreaResampler.resample($0, width: width, height: height, side: Self.reducedSide) { Double($0) }
        }
        self.init(bits: Self.hashBits(reduced32: reduced))
    }

    static func checkSize(count: Int, width: Int, height: Int) throws(PerceptualHashError) {
        guard width > 0, height > 0 else {
            throw PerceptualHashError(.invalidImage, "image size must be positive, got \(width)x\(height)")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels == count else {
            throw PerceptualHashError(
                .invalidImage, "a \(width)x\(height) image needs \(width)*\(height) pixels, got \(count)")
        }
    }

    /// `cos(pi * k * (2n + 1) / 64)` for the 8 kept frequencies k and the 32 samples n: the only
    /// rows of the 32-point DCT-II matrix the 8x8 block needs.
    static let dctRows: [Double] = (0..<blockSide).flatMap { k in
        (0..<reducedSide).map { n in
            cos(Double.pi * Double(k) * Double(2 * n + 1) / Double(2 * reducedSide))
        }
    }

    /// The 64 bits from a 32x32 row-major plane, which is first rounded and clamped to 8 bits
    /// as Pillow's resize of an `L` image returns it.
    static func hashBits(reduced32 reduced: [Double]) -> UInt64 {
        let side = reducedSide
        let block = blockSide
        let pixels = reduced.map { min(255, max(0, $0.rounded(.toNearestOrAwayFromZero))) }
        let d = TruncatedDCT.coefficients(of: pixels, side: side, block: block, rows: dctRows)
        let sorted = d.sorted()
        let median = (sorted[31] + sorted[32]) / 2
        var bits: UInt64 = 0
        for value in d {
            bits = bits << 1 | (value > median ? 1 : 0)
        }
        return bits
    }
}
