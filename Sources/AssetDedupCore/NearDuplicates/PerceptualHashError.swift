/// Why a perceptual hash could not be made or read, with a code callers can match on.
public struct PerceptualHashError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, independent of the message wording.
    public enum Code: Sendable, Equatable {
        /// The text is not exactly 16 hexadecimal digits.
        case invalidHex
        /// Width or height is not positive, or the pixel count does not match them.
        case invalidImage
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
