/// What the server knows of how a file looks: one hash for a still image, or hashes of frames
/// taken at fixed fractions of a video's duration.
///
/// Byte-identical content is SHA-256's job; this is for the same picture or clip resized or
/// re-encoded. Images are compared with images and videos with videos, never across.
public enum MediaFingerprint: Sendable, Equatable {
    case image(PerceptualHash64)
    /// `frames[i]` is the frame at `VideoFrames.fractions[i]` of the duration.
    case video(frames: [PerceptualHash64], durationSeconds: Double)

    public var kind: Kind {
        switch self {
        case .image: .image
        case .video: .video
        }
    }

    /// The hashes in frame order (one for an image).
    public var hashes: [PerceptualHash64] {
        switch self {
        case .image(let hash): [hash]
        case .video(let frames, _): frames
        }
    }

    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case image
        case video
    }
}

/// Where video frames are taken and when two videos are "the same clip".
///
/// Fixed fractions (not timestamps) so a re-encode at another frame rate or a trimmed container
/// start still lines frame i up with frame i. The rule is vPDQ's: enough frame pairs within the
/// image threshold.
public enum VideoFrames {
    /// 10 frames at the middle of each tenth: 5%, 15%, ... 95% (never the first frame, which is
    /// often black or a title).
    public static let fractions: [Double] = (0..<10).map { (Double($0) + 0.5) / 10 }

    /// At least this share of aligned frame pairs must be within the threshold (vPDQ uses 80%).
    public static let matchingShare = 0.8

    /// The distance reported for two videos when they match: the median of the aligned frame
    /// distances (upper median), or nil when fewer than `matchingShare` of the pairs are within
    /// `threshold` or the frame counts differ.
    public static func distance(
        _ a: [PerceptualHash64], _ b: [PerceptualHash64],
        threshold: Int = PerceptualHash64.defaultThreshold
    ) -> Int? {
        guard !a.isEmpty, a.count == b.count else { return nil }
        let distances = zip(a, b).map { $0.distance(to: $1) }
        let within = distances.filter { $0 <= threshold }.count
        guard Double(within) >= matchingShare * Double(a.count) else { return nil }
        return distances.sorted()[distances.count / 2]
    }
}

extension MediaFingerprint {
    /// The distance to `other` under the match rule of its kind, or nil when they do not match
    /// (different kinds, an image pair over `threshold`, or a video pair failing `VideoFrames`).
    public func matchDistance(
        to other: MediaFingerprint, threshold: Int = PerceptualHash64.defaultThreshold
    ) -> Int? {
        switch (self, other) {
        case (.image(let a), .image(let b)):
            let distance = a.distance(to: b)
            return distance <= threshold ? distance : nil
        case (.video(let a, _), .video(let b, _)):
            return VideoFrames.distance(a, b, threshold: threshold)
        default:
            return nil
        }
    }
}

/// The outcome of fingerprinting one file: a fingerprint, or why there is none (not an image or
/// video, undecodable, over a limit). Never an error: a file without a fingerprint is still a
/// good upload.
public enum FingerprintOutcome: Sendable, Equatable {
    case fingerprint(MediaFingerprint)
    case unavailable(reason: String)
}

/// Turns a local file into a fingerprint. Consumers (uploads, backfill, reports) see this
/// protocol; the decoders behind it are chosen by the executable.
public protocol MediaFingerprinting: Sendable {
    /// Reads the file at `path` (a complete, local, content-addressed blob) within the
    /// implementation's limits on pixels, duration, memory and time.
    func fingerprint(fileAt path: String) -> FingerprintOutcome
}
