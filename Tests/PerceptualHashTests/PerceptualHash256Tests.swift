import PerceptualHash
import Testing

/// The 256-bit PDQ-shaped hash: text form, quality gate for flat pictures, the mirror computed
/// from one reduction, and edits against unrelated pictures.
@Suite struct PerceptualHash256Tests {
    private func hash(_ image: SyntheticImage) throws -> PerceptualHash256 {
        try PerceptualHash256.hashes(luminance: image.bytes, width: image.width, height: image.height, mirrored: false)
            .hash
    }

    @Test func textIs64HexDigitsMostSignificantWordFirst() {
        let hash = PerceptualHash256(words: [0xF, 0, UInt64.max, 1 << 63], quality: 100)
        #expect(
            hash.description
                == "000000000000000f" + "0000000000000000" + "ffffffffffffffff" + "8000000000000000")
        #expect(hash.distance(to: PerceptualHash256(words: [0, 0, 0, 0], quality: 0)) == 4 + 64 + 1)
    }

    @Test func flatAndNearFlatPicturesAreBelowTheQualityGate() throws {
        let grey = SyntheticImage(name: "grey") { _, _ in 128 }
        let ramp = SyntheticImage(name: "ramp") { x, _ in 100 + 12 * x }
        for image in [grey, ramp] {
            #expect(try hash(image).quality < PerceptualHash256.minimumQuality, "\(image.name)")
        }
        for seed: UInt64 in 1...4 {
            #expect(try hash(.texture(seed: seed)).quality >= PerceptualHash256.minimumQuality)
        }
    }

    @Test func halfTheBitsAreSet() throws {
        for seed: UInt64 in 1...4 {
            let words = try hash(.blobs(seed: seed)).words
            #expect(words.reduce(0) { $0 + $1.nonzeroBitCount } == 128)
        }
    }

    @Test func theMirrorFromOneReductionIsTheMirroredPicturesHash() throws {
        for seed: UInt64 in 1...4 {
            for image in [SyntheticImage.blobs(seed: seed), .texture(seed: seed, width: 333, height: 250)] {
                var mirrored = image
                for y in 0..<image.height {
                    for x in 0..<image.width {
                        mirrored.pixels[y * image.width + x] = image.pixels[y * image.width + image.width - 1 - x]
                    }
                }
                let both = try PerceptualHash256.hashes(
                    luminance: image.bytes, width: image.width, height: image.height, mirrored: true)
                let direct = try hash(mirrored)
                #expect(both.mirror!.distance(to: direct) <= 2, "\(image.name)")
                // The mirror is a different hash: a copy is found through it, not by luck.
                #expect(both.hash.distance(to: direct) >= 64, "\(image.name)")
            }
        }
    }

    @Test func editsStayCloseAndUnrelatedPicturesFar() throws {
        let pictures = (1...4).flatMap { [SyntheticImage.blobs(seed: $0), .texture(seed: $0)] }
        let hashes = try pictures.map(hash)
        // Edits of the detailed pictures only: the smooth blobs have next to nothing in frequencies
        // 1...16 past the lowest, so noise moves their 256 bits as it moves pHash's gradients.
        for (image, original) in zip(pictures, hashes) where image.name.hasPrefix("texture") {
            for edit in [image.downscaledByHalf(), image.brightened(by: 1.1), image.withNoise(sigma: 8, seed: 3)] {
                #expect(try hash(edit).distance(to: original) <= PerceptualHash256.confirmThreshold, "\(image.name)")
            }
        }
        for i in hashes.indices {
            for j in hashes.indices where j > i {
                #expect(
                    hashes[i].distance(to: hashes[j]) > PerceptualHash256.confirmThreshold + 10,
                    "\(pictures[i].name) / \(pictures[j].name)")
            }
        }
    }

    @Test func badSizesAreRejected() {
        #expect(throws: PerceptualHashError.self) {
            try PerceptualHash256.hashes(luminance: [1, 2, 3], width: 2, height: 2, mirrored: false)
        }
    }
}
