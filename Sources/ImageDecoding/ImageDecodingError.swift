/// Why an image file gave no pixels, with a code callers can match on.
public struct ImageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// libvips could not start (no loaders, out of memory at startup).
        case startup
        /// No loader recognises the bytes, or the header is unreadable.
        case unreadable
        /// The header is readable but over a limit (pixels), so nothing is decoded.
        case overLimit
        /// Decoding failed part-way: truncated or corrupt data.
        case corrupt
    }

    public let code: Code
    /// libvips' message, trimmed, or ours.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
