import AssetDedupCore
import Foundation
import ImageDecoding
import MediaFingerprinter
import PerceptualHash
import VideoDecoding

extension FuzzHarness {
    /// The decoders read files (libvips and libavformat open paths), so each input is written to one.
    private func mediaFile(_ input: [UInt8]) -> String? {
        let path = directory + "/media-input"
        return FileManager.default.createFile(atPath: path, contents: Data(input)) ? path : nil
    }

    /// Never a crash or a hang; a decoded plane has the size it claims, within the limits; a
    /// thumbnail is a JPEG within its box; the fingerprinter agrees with the sniffer on the kind.
    func image(_ input: [UInt8]) -> [String] {
        guard let path = mediaFile(input) else { return ["cannot write the input file"] }
        var broken: [String] = []
        let decoder = ImageDecoder()
        if let plane = try? decoder.luminance(fileAt: path) {
            if plane.width <= 0 || plane.height <= 0 || plane.pixels.count != plane.width * plane.height {
                broken.append("luminance: \(plane.pixels.count) bytes for \(plane.width)x\(plane.height)")
            }
            if min(plane.width, plane.height) > decoder.limits.minShortSide {
                broken.append("luminance: \(plane.width)x\(plane.height) was not shrunk")
            }
        }
        if let jpeg = try? decoder.thumbnailJPEG(fileAt: path, maxSide: 64), !jpeg.starts(with: [0xFF, 0xD8, 0xFF]) {
            broken.append("thumbnail is not a JPEG")
        }
        broken += fingerprintProblems(path, input)
        return broken
    }

    /// Never a crash or a hang; one frame per fraction at the asked size, a duration within the
    /// limit; the fingerprinter agrees with the sniffer on the kind.
    func video(_ input: [UInt8]) -> [String] {
        guard let path = mediaFile(input) else { return ["cannot write the input file"] }
        var broken: [String] = []
        let decoder = VideoDecoder(limits: .init(timeLimitSeconds: 5))
        if let sample = try? decoder.frames(fileAt: path, at: VideoFrames.fractions) {
            if sample.frames.count != VideoFrames.fractions.count { broken.append("\(sample.frames.count) frames") }
            if !(sample.durationSeconds > 0 && sample.durationSeconds <= decoder.limits.maxDurationSeconds) {
                broken.append("duration \(sample.durationSeconds) accepted")
            }
            for frame in sample.frames
            where frame.width != decoder.limits.frameSide || frame.height != decoder.limits.frameSide
                || frame.pixels.count != frame.width * frame.height
            {
                broken.append("frame \(frame.width)x\(frame.height) with \(frame.pixels.count) bytes")
            }
        }
        broken += fingerprintProblems(path, input)
        return broken
    }

    private func fingerprintProblems(_ path: String, _ input: [UInt8]) -> [String] {
        let outcome = MediaFingerprinter(videos: VideoDecoder(limits: .init(timeLimitSeconds: 5)))
            .fingerprint(fileAt: path)
        switch (MediaSniffer.kind(of: Array(input.prefix(MediaSniffer.headerLength))), outcome) {
        case (.neither, .unavailable(let reason)) where reason == "not an image or video": return []
        case (.neither, _): return ["sniffed as neither, fingerprinted as \(outcome)"]
        case (.image, .fingerprint(.video)), (.video, .fingerprint(.image)):
            return ["kind differs from the sniff: \(outcome)"]
        case (_, .unavailable(let reason)) where reason.isEmpty: return ["unavailable without a reason"]
        case (.video, .fingerprint(.video(let frames, _))) where frames.count != VideoFrames.fractions.count:
            return ["\(frames.count) frame hashes"]
        default: return []
        }
    }
}
