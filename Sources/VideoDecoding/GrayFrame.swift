/// One video frame as 8-bit luma, row-major, `width * height` bytes.
public struct GrayFrame: Sendable, Equatable {
    public let pixels: [UInt8]
    public let width: Int
    public let height: Int
}

/// The frames taken from a video and the duration they were placed in.
public struct VideoSample: Sendable, Equatable {
    public let durationSeconds: Double
    /// One frame per requested fraction, in the same order.
    public let frames: [GrayFrame]
}
