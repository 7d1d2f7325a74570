import Testing

@testable import AssetDedupCore
import PerceptualHash

@Suite struct MediaFingerprintTests {
    let base = PerceptualHash64(bits: 0x8f37_3714_acfc_f4f0)

    /// `base` with the lowest `n` bits flipped: exactly `n` bits away.
    func flipped(_ n: Int) -> PerceptualHash64 {
        PerceptualHash64(bits: base.bits ^ (n == 64 ? ~0 : (UInt64(1) << UInt64(n)) - 1))
    }

    @Test func imagesMatchWithinTheThresholdOnly() {
        let a = MediaFingerprint.image(base)
        #expect(a.matchDistance(to: .image(flipped(10))) == 10)
        #expect(a.matchDistance(to: .image(flipped(11))) == nil)
        #expect(a.matchDistance(to: .image(flipped(11)), threshold: 12) == 11)
    }

    @Test func videosNeedEightOfTenFramesWithinTheThreshold() {
        let original = Array(repeating: base, count: 10)
        var reencoded = (0..<10).map { flipped($0 % 4) }
        #expect(VideoFrames.distance(original, reencoded) == 1, "upper median of 0,0,0,1,1,1,2,2,3,3")
        reencoded[0] = flipped(30)
        reencoded[1] = flipped(30)
        #expect(VideoFrames.distance(original, reencoded) != nil, "8 of 10 frames within is a match")
        reencoded[2] = flipped(30)
        #expect(VideoFrames.distance(original, reencoded) == nil, "7 of 10 is not")
    }

    @Test func kindsAndFrameCountsNeverCrossMatch() {
        let video = MediaFingerprint.video(frames: Array(repeating: base, count: 10), durationSeconds: 4)
        #expect(video.matchDistance(to: .image(base)) == nil)
        #expect(MediaFingerprint.image(base).matchDistance(to: video) == nil)
        let shorter = MediaFingerprint.video(frames: Array(repeating: base, count: 9), durationSeconds: 4)
        #expect(video.matchDistance(to: shorter) == nil)
        #expect(VideoFrames.fractions.count == 10)
        #expect(VideoFrames.fractions.first == 0.05)
    }
}
