import CVips
import PerceptualHash

/// Decodes JPEG, PNG, WebP, GIF (first frame) and HEIF files with libvips into the luminance
/// `PerceptualHash64` hashes, and makes the reports' small JPEG thumbnails.
///
/// Safe to share between threads: it holds only limits; libvips state is process-wide (`Vips`).
public struct ImageDecoder: Sendable {
    /// What a file may cost before it is refused.
    public struct Limits: Sendable, Equatable {
        /// Width x height from the header, checked before any pixel is decoded (decompression bombs).
        public var maxPixels: Int
        /// Decoding shrinks (on load where the format allows) until the shorter side is this long.
        /// At 256 each of the hash's 32x32 cells still averages at least 8x8 decoded pixels, so
        /// where the decoder's shrink boundaries fall moves a cell by an eighth of a pixel row at
        /// most, and JPEG's 1/8 DCT shrink is itself an 8x8 average.
        public var minShortSide: Int

        public init(maxPixels: Int = 100_000_000, minShortSide: Int = 256) {
            self.maxPixels = maxPixels
            self.minShortSide = minShortSide
        }
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The image upright (EXIF orientation applied, as browsers do), in sRGB, shrunk so its
    /// shorter side is about `limits.minShortSide` (never enlarged), as BT.601 luminance
    /// (`Luminance.bt601`, the pure-Swift and browser path's formula).
    public func luminance(fileAt path: String) throws(ImageDecodingError) -> LuminancePlane {
        try Vips.withSlot { () throws(ImageDecodingError) -> LuminancePlane in
            let (width, height) = try uprightSize(path)
            let short = limits.minShortSide
            // Fit in a box whose long side is unbounded, so the short side lands on `short`.
            let box = width <= height ? (short, Int(VIPS_MAX_COORD)) : (Int(VIPS_MAX_COORD), short)
            let shrunk = try VipsImageRef.make(.corrupt, "thumbnail") {
                adshim_vips_thumbnail(path, $0, Int32(box.0), Int32(box.1))
            }
            let rgb = try srgb8(shrunk)
            let bytes = try rgb.bytes()
            let (w, h) = (rgb.width, rgb.height)
            guard w > 0, h > 0, bytes.count == w * h * 3 else {
                throw ImageDecodingError(.corrupt, "decoded \(bytes.count) bytes for \(w)x\(h) RGB")
            }
            do {
                return LuminancePlane(pixels: try Luminance.bt601(rgb: bytes, bytesPerPixel: 3), width: w, height: h)
            } catch {
                throw ImageDecodingError(.corrupt, "\(error)")
            }
        }
    }

    /// A JPEG of the image upright within `maxSide` x `maxSide` (never enlarged), alpha on white,
    /// metadata stripped: small enough for a data URI in a report.
    public func thumbnailJPEG(fileAt path: String, maxSide: Int = 64, quality: Int = 75)
        throws(ImageDecodingError) -> [UInt8]
    {
        try Vips.withSlot { () throws(ImageDecodingError) -> [UInt8] in
            _ = try uprightSize(path)
            let side = Int32(max(1, maxSide))
            var image = try VipsImageRef.make(.corrupt, "thumbnail") { adshim_vips_thumbnail(path, $0, side, side) }
            image = try VipsImageRef.make(.corrupt, "colourspace") { adshim_vips_colourspace_srgb(image.pointer, $0) }
            if image.hasAlpha {
                let withAlpha = image
                image = try VipsImageRef.make(.corrupt, "flatten") { adshim_vips_flatten_white(withAlpha.pointer, $0) }
            }
            let input = image
            image = try VipsImageRef.make(.corrupt, "cast") { adshim_vips_cast_uchar(input.pointer, $0) }
            var buffer: UnsafeMutableRawPointer?
            var length = 0
            guard adshim_vips_jpegsave_buffer(image.pointer, &buffer, &length, Int32(quality)) == 0, let buffer else {
                throw Vips.error(.corrupt, "jpegsave")
            }
            defer { g_free(buffer) }
            return [UInt8](UnsafeRawBufferPointer(start: buffer, count: length))
        }
    }

    /// The image's upright width and height, from its header alone (what a review page shows).
    public func size(fileAt path: String) throws(ImageDecodingError) -> (width: Int, height: Int) {
        try Vips.withSlot { () throws(ImageDecodingError) -> (width: Int, height: Int) in try uprightSize(path) }
    }

    /// Width and height after autorotation, from the header alone; refuses what is over the limit.
    private func uprightSize(_ path: String) throws(ImageDecodingError) -> (Int, Int) {
        let header = try VipsImageRef.make(.unreadable, "header") { out in
            guard let image = adshim_vips_open_header(path) else { return -1 }
            out.pointee = image
            return 0
        }
        let (width, height) = (header.width, header.height)
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, pixels <= limits.maxPixels else {
            throw ImageDecodingError(
                .overLimit, "\(width)x\(height) is over the limit of \(limits.maxPixels) pixels")
        }
        return header.orientationSwapsSides ? (height, width) : (width, height)
    }

    /// sRGB, first three bands, 8 bits: grey, CMYK, 16-bit and alpha images all end as RGB bytes.
    private func srgb8(_ image: VipsImageRef) throws(ImageDecodingError) -> VipsImageRef {
        let srgb = try VipsImageRef.make(.corrupt, "colourspace") { adshim_vips_colourspace_srgb(image.pointer, $0) }
        guard srgb.bands >= 3 else { throw ImageDecodingError(.corrupt, "\(srgb.bands) bands after sRGB") }
        let rgb = try VipsImageRef.make(.corrupt, "extract_band") { adshim_vips_extract_rgb(srgb.pointer, $0) }
        return try VipsImageRef.make(.corrupt, "cast") { adshim_vips_cast_uchar(rgb.pointer, $0) }
    }
}
