import Foundation
import MediaFingerprinter
import PerceptualHash
import Testing
import VideoDecoding

/// Real videos from ffmpeg's lavfi sources, through the production fingerprinter.
@Suite struct VideoTests {
    let fingerprinter = MediaFingerprinter()

    func frames(_ path: String) throws -> [PerceptualHash64] {
        let outcome = fingerprinter.fingerprint(fileAt: path)
        return try #require(outcome.videoFrames, "\(path): \(outcome)")
    }

    static let h264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]

    @Test func reencodeMatchesAndUnrelatedDoesNot() throws {
        try withTemporaryDirectory { dir in
            try lavfiVideo("testsrc2=s=640x360:r=25", seconds: 12, to: "\(dir)/original.mp4", Self.h264 + ["-g", "50"])
            // Another codec, container, bitrate, size and keyframe interval.
            try lavfiVideo(
                "testsrc2=s=640x360:r=25", seconds: 12, to: "\(dir)/reencoded.mkv",
                ["-vf", "scale=320:180", "-c:v", "mpeg4", "-b:v", "300k", "-g", "37"])
            try lavfiVideo(
                "mandelbrot=s=640x360:r=25", seconds: 12, to: "\(dir)/unrelated.mp4", Self.h264)
            let original = try frames("\(dir)/original.mp4")
            #expect(original.count == VideoFrames.fractions.count)
            let reencoded = try frames("\(dir)/reencoded.mkv")
            let distance = VideoFrames.distance(original, reencoded)
            #expect(
                distance != nil, "re-encode: frame distances \(zip(original, reencoded).map { $0.distance(to: $1) })")
            let unrelated = try frames("\(dir)/unrelated.mp4")
            #expect(
                VideoFrames.distance(original, unrelated) == nil,
                "unrelated: frame distances \(zip(original, unrelated).map { $0.distance(to: $1) })")
            if case .fingerprint(.video(_, let seconds)) = fingerprinter.fingerprint(fileAt: "\(dir)/original.mp4") {
                #expect(abs(seconds - 12) < 0.2, "duration \(seconds)")
            }
        }
    }

    @Test func overLimitContainersAreRefused() throws {
        try withTemporaryDirectory { dir in
            // 6 h 6 min of 16x16 gray at one frame a second: small, quick to make, over the 6 h limit.
            try lavfiVideo(
                "color=c=gray:s=16x16:r=1", seconds: 21_960, to: "\(dir)/long.mp4",
                ["-c:v", "libx264", "-preset", "ultrafast"])
            let long = fingerprinter.fingerprint(fileAt: "\(dir)/long.mp4").reason
            #expect(long?.contains("duration") == true, "\(String(describing: long))")
            // Frames wider than 8192.
            try lavfiVideo("color=s=8200x16:r=1", seconds: 2, to: "\(dir)/wide.mkv", ["-c:v", "ffv1"])
            let wide = fingerprinter.fingerprint(fileAt: "\(dir)/wide.mkv").reason
            #expect(wide?.contains("8200x16") == true, "\(String(describing: wide))")
        }
    }

    @Test func brokenVideosAreUnavailable() throws {
        try withTemporaryDirectory { dir in
            try lavfiVideo("testsrc2=s=320x240:r=25", seconds: 4, to: "\(dir)/whole.mp4", Self.h264)
            let whole = try bytes(of: "\(dir)/whole.mp4")
            // mp4 from ffmpeg puts moov last: the first half has no index.
            try write(Array(whole.prefix(whole.count / 2)), to: "\(dir)/truncated.mp4")
            try write(Array(whole.prefix(8)) + Array(repeating: 0x41, count: 5000), to: "\(dir)/fake.mp4")
            try lavfiVideo("sine", seconds: 2, to: "\(dir)/audio.mkv", ["-c:a", "flac"])
            for name in ["truncated.mp4", "fake.mp4", "audio.mkv"] {
                let outcome = fingerprinter.fingerprint(fileAt: "\(dir)/\(name)")
                #expect(outcome.reason != nil, "\(name): \(outcome)")
                #expect(outcome.reason?.contains(dir) == false, "the path leaks: \(outcome)")
            }
            #expect(fingerprinter.fingerprint(fileAt: "\(dir)/audio.mkv").reason?.contains("no video") == true)
            // QuickTime Animation decodes fine in FFmpeg but is not on the decoder list.
            try lavfiVideo("testsrc2=s=64x48:r=5", seconds: 1, to: "\(dir)/qtrle.mov", ["-c:v", "qtrle"])
            let qtrle = fingerprinter.fingerprint(fileAt: "\(dir)/qtrle.mov").reason
            #expect(qtrle?.contains("qtrle decoder is not allowed") == true, "\(String(describing: qtrle))")
        }
    }

    @Test func concurrentCallsAgree() throws {
        try withTemporaryDirectory { dir in
            try lavfiVideo("testsrc2=s=160x120:r=10", seconds: 4, to: "\(dir)/clip.mp4", Self.h264)
            let expected = try frames("\(dir)/clip.mp4")
            let results = FramesBox()
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                results.append(MediaFingerprinter().fingerprint(fileAt: "\(dir)/clip.mp4").videoFrames)
            }
            #expect(results.values.count == 8 && results.values.allSatisfy { $0 == expected })
        }
    }

    @Test func timeLimitStopsTheDecode() throws {
        try withTemporaryDirectory { dir in
            try lavfiVideo("testsrc2=s=320x240:r=25", seconds: 4, to: "\(dir)/clip.mp4", Self.h264)
            let decoder = VideoDecoder(limits: .init(timeLimitSeconds: 0))
            do {
                _ = try decoder.frames(fileAt: "\(dir)/clip.mp4", at: VideoFrames.fractions)
                Issue.record("decoded past a deadline already gone")
            } catch let error as VideoDecodingError {
                #expect(error.code == .timedOut, "\(error)")
            }
        }
    }
}

/// Collects results from concurrent closures.
final class FramesBox: @unchecked Sendable {
    // @unchecked: every access to `storage` holds `lock`.
    private let lock = NSLock()
    private var storage: [[PerceptualHash64]?] = []
    func append(_ value: [PerceptualHash64]?) { lock.withLock { storage.append(value) } }
    var values: [[PerceptualHash64]?] { lock.withLock { storage } }
}
