/// An 8-bit luminance image, row-major, `width * height` bytes: what `PerceptualHash64` hashes.
public struct LuminancePlane: Sendable, Equatable {
    public let pixels: [UInt8]
    public let width: Int
    public let height: Int

    public init(pixels: [UInt8], width: Int, height: Int) {
        self.pixels = pixels
        self.width = width
        self.height = height
    }
}
