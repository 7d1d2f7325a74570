/// Why a video file gave no frames, with a code callers can match on.
public struct VideoDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// No allowed demuxer recognises the file, or its header is unreadable.
        case unreadable
        /// The container has no video stream (audio only, or only a cover picture).
        case noVideo
        /// Duration or frame size is unknown or over a limit; nothing is decoded.
        case overLimit
        /// Seeking or decoding failed: truncated or corrupt data, or an unsupported codec.
        case corrupt
        /// The file took longer than `Limits.timeLimitSeconds`.
        case timedOut
    }

    public let code: Code
    /// FFmpeg's message with what we were doing, or ours.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
