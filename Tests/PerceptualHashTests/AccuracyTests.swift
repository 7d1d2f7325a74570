import PerceptualHash
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Edited copies of a picture stay within the default threshold; different pictures do not.
@Suite struct AccuracyTests {
    /// Pictures with detail at several scales, as photographs have.
    static let detailed: [SyntheticImage] =
        (1...4).map { SyntheticImage.blobs(seed: $0) } + (1...4).map { SyntheticImage.texture(seed: $0) }

    /// Smooth gradients: pHash's known weak spot. Most of their 8x8 DCT coefficients are near
    /// zero, so the median falls among them and noise or a crop flips several bits (measured up to
    /// 18 here, as imagehash would). They are printed, and checked against unrelated pictures,
    /// but their edits are not asserted within the threshold; see DESIGN.md, Near-duplicates.
    static let smooth: [SyntheticImage] = [
        .gradient(angle: 20, centre: (0.3, 0.4)), .gradient(angle: 110, centre: (0.7, 0.2)),
        .gradient(angle: 200, centre: (0.5, 0.8)), .gradient(angle: 290, centre: (0.2, 0.7)),
    ]

    static let originals = smooth + detailed

    static let edits: [(name: String, apply: @Sendable (SyntheticImage) -> SyntheticImage)] = [
        ("50% downscale", { $0.downscaledByHalf() }),
        ("+10% brightness", { $0.brightened(by: 1.1) }),
        ("noise sigma 8", { $0.withNoise(sigma: 8, seed: 99) }),
        ("5% crop", { $0.cropped(by: 0.05) }),
    ]

    static func hash(_ image: SyntheticImage) throws -> PerceptualHash64 {
        try PerceptualHash64(luminance: image.bytes, width: image.width, height: image.height)
    }

    /// Set PHASH_PRINT_DISTANCES=1 to print the table DESIGN.md quotes.
    static let printing = getenv("PHASH_PRINT_DISTANCES") != nil

    @Test func imageAgainstItselfIsZero() throws {
        for image in Self.originals {
            #expect(try Self.hash(image).distance(to: Self.hash(image)) == 0)
        }
    }

    @Test func editedCopiesAreWithinThreshold() throws {
        var worst = 0
        for image in Self.detailed {
            let original = try Self.hash(image)
            var row: [String] = [image.name]
            for edit in Self.edits {
                let distance = original.distance(to: try Self.hash(edit.apply(image)))
                worst = max(worst, distance)
                row.append("\(distance)")
                #expect(distance <= PerceptualHash64.defaultThreshold, "\(image.name), \(edit.name): \(distance)")
            }
            if Self.printing { print("| " + row.joined(separator: " | ") + " |") }
        }
        if Self.printing { print("worst edit distance: \(worst)") }
    }

    @Test func smoothGradientsArePrinted() throws {
        guard Self.printing else { return }
        for image in Self.smooth {
            let original = try Self.hash(image)
            let row = try Self.edits.map { "\(original.distance(to: try Self.hash($0.apply(image))))" }
            print("| " + ([image.name] + row).joined(separator: " | ") + " |")
        }
    }

    @Test func unrelatedImagesAreBeyondThreshold() throws {
        let hashes = try Self.originals.map(Self.hash)
        var nearest = 64
        for i in hashes.indices {
            for j in hashes.indices where j > i {
                let distance = hashes[i].distance(to: hashes[j])
                nearest = min(nearest, distance)
                #expect(
                    distance > PerceptualHash64.defaultThreshold,
                    "\(Self.originals[i].name) vs \(Self.originals[j].name): \(distance)")
            }
        }
        if Self.printing { print("nearest unrelated pair: \(nearest)") }
    }
}
