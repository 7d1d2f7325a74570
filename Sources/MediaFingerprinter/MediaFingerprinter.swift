import AssetDedupCore
import ImageDecoding
import PerceptualHash
import VideoDecoding

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The production `MediaFingerprinting`: sniffs the file's first bytes, decodes images with
/// libvips and video frames with FFmpeg, and hashes them with `PerceptualHash64`.
///
/// Thread-safe: it holds only the decoders' limits; each call owns its C handles, and libvips'
/// process state is started once and gated (`ImageDecoder`).
public struct MediaFingerprinter: MediaFingerprinting {
    public let images: ImageDecoder
    public let videos: VideoDecoder

    public init(images: ImageDecoder = ImageDecoder(), videos: VideoDecoder = VideoDecoder()) {
        self.images = images
        self.videos = videos
    }

    public func fingerprint(fileAt path: String) -> FingerprintOutcome {
        switch outcome(path) {
        case .unavailable(let reason):
            // Reasons reach API answers and reports; the blob's path on this server must not.
            .unavailable(reason: path.isEmpty ? reason : reason.replacing(path, with: "the file"))
        case let fingerprint: fingerprint
        }
    }

    private func outcome(_ path: String) -> FingerprintOutcome {
        let header: [UInt8]
        do { header = try Self.readHeader(path) } catch { return .unavailable(reason: error.message) }
        switch MediaSniffer.kind(of: header) {
        case .neither:
            return .unavailable(reason: "not an image or video")
        case .image(let format):
            do {
                let plane = try images.luminance(fileAt: path)
                let hash = try PerceptualHash64(luminance: plane.pixels, width: plane.width, height: plane.height)
                return .fingerprint(.image(hash))
            } catch let error as ImageDecodingError {
                return .unavailable(reason: "\(format) image: \(error.message)")
            } catch {
                return .unavailable(reason: "\(format) image: \(error)")
            }
        case .video(let container):
            do {
                let sample = try videos.frames(fileAt: path, at: VideoFrames.fractions)
                let hashes = try sample.frames.map {
                    try PerceptualHash64(luminance: $0.pixels, width: $0.width, height: $0.height)
                }
                return .fingerprint(.video(frames: hashes, durationSeconds: sample.durationSeconds))
            } catch let error as VideoDecodingError {
                return .unavailable(reason: "\(container) video: \(error.message)")
            } catch {
                return .unavailable(reason: "\(container) video: \(error)")
            }
        }
    }

    struct ReadError: Error {
        let message: String
    }

    /// The file's first `MediaSniffer.headerLength` bytes (fewer if it is shorter).
    static func readHeader(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(message: "cannot open the file (errno \(errno))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: MediaSniffer.headerLength)
        var filled = 0
        while filled < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ReadError(message: "cannot read the file (errno \(errno))") }
            if n == 0 { break }
            filled += n
        }
        return Array(buffer.prefix(filled))
    }
}
