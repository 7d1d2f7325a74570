/// Colour to 8-bit luminance the way imagehash gets it: PIL's `convert("L")`.
public enum Luminance {
    /// ITU-R BT.601 luma, `L = R*299/1000 + G*587/1000 + B*114/1000`, for 3 (RGB) or 4 (RGBA)
    /// bytes per pixel; alpha is ignored, as PIL ignores it.
    ///
    /// Computed as PIL does (`Convert.c`, `L24`): 16-bit fixed-point weights 19595, 38470, 7471
    /// and rounding, so the bytes equal PIL's, which differ from truncating the formula by at
    /// most one.
    public static func bt601(rgb bytes: [UInt8], bytesPerPixel: Int) throws(PerceptualHashError) -> [UInt8] {
        guard bytesPerPixel == 3 || bytesPerPixel == 4 else {
            throw PerceptualHashError(
                .invalidImage, "bytes per pixel must be 3 (RGB) or 4 (RGBA), got \(bytesPerPixel)")
        }
        guard bytes.count % bytesPerPixel == 0 else {
            throw PerceptualHashError(
                .invalidImage, "\(bytes.count) bytes are not a whole number of \(bytesPerPixel)-byte pixels")
        }
        let count = bytes.count / bytesPerPixel
        return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            bytes.withUnsafeBufferPointer { src in
                var s = 0
                for i in 0..<count {
                    let r = UInt32(src[s])
                    let g = UInt32(src[s + 1])
                    let b = UInt32(src[s + 2])
                    out[i] = UInt8(truncatingIfNeeded: (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
                    s += bytesPerPixel
                }
            }
            initialized = count
        }
    }
}
