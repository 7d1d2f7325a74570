import PerceptualHash
import Testing

/// Issue 21's match rule on pictures built here: mirrors found, corner captions ignored, captioned
/// unrelated pictures and flat pictures never matched.
@Suite struct ImageSignatureTests {
    private func signature(_ image: SyntheticImage) throws -> ImageSignature {
        try ImageSignature(luminance: image.bytes, width: image.width, height: image.height)
    }

    private func mirrored(_ image: SyntheticImage) -> SyntheticImage {
        var out = image
        for y in 0..<image.height {
            for x in 0..<image.width {
                out.pixels[y * image.width + x] = image.pixels[y * image.width + image.width - 1 - x]
            }
        }
        return out
    }

    /// A near-white box, `share` of the width wide and a fifth of that tall, in the top-left corner.
    private func captioned(_ image: SyntheticImage, share: Double) -> SyntheticImage {
        var out = image
        let w = Int(Double(image.width) * share)
        let h = Int(Double(w) * 0.22)
        for y in 0..<h {
            for x in 0..<w { out.pixels[y * image.width + x] = 250 }
        }
        return out
    }

    @Test func aMirroredCopyMatchesThroughTheMirrorHash() throws {
        for seed: UInt64 in 1...4 {
            let image = SyntheticImage.texture(seed: seed)
            let original = try signature(image)
            let copy = try signature(mirrored(image))
            // The whole-picture hash alone misses it: the match is the mirror's doing.
            #expect(copy.whole.distance(to: original.whole) > PerceptualHash64.defaultThreshold)
            #expect(copy.matchDistance(to: original) != nil, "texture \(seed)")
            #expect(original.matchDistance(to: copy) != nil, "texture \(seed)")
        }
    }

    @Test func aCornerCaptionStillMatchesTheOriginal() throws {
        for seed: UInt64 in 1...4 {
            let image = SyntheticImage.texture(seed: seed)
            let copy = try signature(captioned(image, share: 0.4))
            #expect(copy.matchDistance(to: try signature(image)) != nil, "texture \(seed)")
        }
    }

    @Test func captionedUnrelatedPicturesNeverMatch() throws {
        let pictures = try (1...4).flatMap {
            [
                try signature(captioned(.texture(seed: $0), share: 0.4)),
                try signature(captioned(.blobs(seed: $0), share: 0.4)),
            ]
        }
        for i in pictures.indices {
            for j in pictures.indices where j != i {
                #expect(pictures[i].matchDistance(to: pictures[j]) == nil, "\(i) / \(j)")
            }
        }
    }

    @Test func flatPicturesMatchNothingNotEvenEachOther() throws {
        let grey = try signature(SyntheticImage(name: "grey") { _, _ in 128 })
        let dark = try signature(SyntheticImage(name: "dark") { _, _ in 40 })
        let ramp = try signature(SyntheticImage(name: "ramp") { x, _ in 100 + 12 * x })
        for (a, b) in [(grey, dark), (dark, grey), (grey, ramp), (ramp, dark), (grey, grey)] {
            #expect(a.matchDistance(to: b) == nil)
        }
        #expect(grey.matchDistance(to: try signature(.texture(seed: 1))) == nil)
    }

    @Test func aPictureMatchesItselfAtDistanceZero() throws {
        let s = try signature(.texture(seed: 7))
        #expect(s.matchDistance(to: s) == 0)
    }
}
