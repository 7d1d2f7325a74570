/// What issue 21's match rule compares for a still image: 64-bit pHashes that find candidates
/// (the whole picture, its mirror image, its centre) and 256-bit hashes of the same variants that
/// confirm them, with PDQ's quality keeping flat pictures out.
///
/// Chosen on the tune part of `scripts/bench-accuracy` (docs/DESIGN.md, "Near-duplicates:
/// accuracy on real photographs"): the mirror finds mirrored copies, the centre ignores a corner
/// caption or a small crop, and the 256-bit confirmation removes the captioned false matches the
/// 64-bit hash alone makes. Not stored or served yet: the store, API and browser still use
/// `PerceptualHash64` alone.
public struct ImageSignature: Sendable, Equatable {
    /// The whole picture (today's stored hash), its mirror image and its centre.
    public let whole: PerceptualHash64
    public let mirror: PerceptualHash64
    public let centre: PerceptualHash64
    public let whole256: PerceptualHash256
    public let mirror256: PerceptualHash256
    public let centre256: PerceptualHash256

    /// The share of each side cut off for the centre variant: more than a corner caption covers
    /// (a box 40% wide is ~9% of the height), little enough to keep most of the picture.
    public static let centreMargin = 0.15

    public var quality: Int { whole256.quality }

    /// Hashes an 8-bit grayscale image (row-major, `width * height` bytes).
    public init(luminance: [UInt8], width: Int, height: Int) throws(PerceptualHashError) {
        try PerceptualHash64.checkSize(count: luminance.count, width: width, height: height)
        var mirrored = luminance
        for y in 0..<height {
            for x in 0..<width { mirrored[y * width + x] = luminance[y * width + width - 1 - x] }
        }
        let dx = Int((Double(width) * Self.centreMargin).rounded())
        let dy = Int((Double(height) * Self.centreMargin).rounded())
        let (cw, ch) = (width - 2 * dx, height - 2 * dy)
        guard cw > 0, ch > 0 else {
            throw PerceptualHashError(.invalidImage, "a \(width)x\(height) image has no centre to hash")
        }
        var centre: [UInt8] = []
        centre.reserveCapacity(cw * ch)
        for y in dy..<(dy + ch) { centre.append(contentsOf: luminance[(y * width + dx)..<(y * width + dx + cw)]) }
        whole = try PerceptualHash64(luminance: luminance, width: width, height: height)
        mirror = try PerceptualHash64(luminance: mirrored, width: width, height: height)
        self.centre = try PerceptualHash64(luminance: centre, width: cw, height: ch)
        let both = try PerceptualHash256.hashes(luminance: luminance, width: width, height: height, mirrored: true)
        whole256 = both.hash
        mirror256 = both.mirror!
        centre256 = try PerceptualHash256.hashes(luminance: centre, width: cw, height: ch, mirrored: false).hash
    }

    /// The 64-bit distance of the closest confirmed variant pair when `self` (a new picture)
    /// matches `stored`, else nil: candidates within `threshold` on whole/whole, mirror/whole or
    /// centre/centre, each confirmed by its 256-bit pair within `PerceptualHash256.confirmThreshold`;
    /// never when either picture is below `PerceptualHash256.minimumQuality`.
    public func matchDistance(to stored: ImageSignature, threshold: Int = PerceptualHash64.defaultThreshold) -> Int? {
        guard quality >= PerceptualHash256.minimumQuality, stored.quality >= PerceptualHash256.minimumQuality else {
            return nil
        }
        let pairs = [
            (whole.distance(to: stored.whole), whole256.distance(to: stored.whole256)),
            (mirror.distance(to: stored.whole), mirror256.distance(to: stored.whole256)),
            (centre.distance(to: stored.centre), centre256.distance(to: stored.centre256)),
        ]
        return pairs.filter { $0.0 <= threshold && $0.1 <= PerceptualHash256.confirmThreshold }.map(\.0).min()
    }
}
