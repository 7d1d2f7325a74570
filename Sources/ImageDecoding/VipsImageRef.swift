import CVips

/// Owns one `VipsImage` reference: libvips images are GObjects, released with `g_object_unref`.
final class VipsImageRef {
    let pointer: UnsafeMutablePointer<VipsImage>

    init(_ pointer: UnsafeMutablePointer<VipsImage>) {
        self.pointer = pointer
    }

    deinit { adshim_vips_unref(pointer) }

    var width: Int { Int(vips_image_get_width(pointer)) }
    var height: Int { Int(vips_image_get_height(pointer)) }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    /// True when EXIF orientation 5-8 makes autorotation swap width and height.
    var orientationSwapsSides: Bool { vips_image_get_orientation_swap(pointer) != 0 }

    /// Runs a libvips operation that writes one output image, turning failure into an error.
    static func make(
        _ code: ImageDecodingError.Code, _ what: String,
        _ operation: (UnsafeMutablePointer<UnsafeMutablePointer<VipsImage>?>) -> Int32
    ) throws(ImageDecodingError) -> VipsImageRef {
        var out: UnsafeMutablePointer<VipsImage>?
        let result = operation(&out)
        guard result == 0, let out else {
            if let out { adshim_vips_unref(out) }
            throw Vips.error(code, what)
        }
        return VipsImageRef(out)
    }

    /// Decodes the whole (lazy) pipeline into a fresh byte array; this is where pixels are read.
    func bytes() throws(ImageDecodingError) -> [UInt8] {
        var size = 0
        guard let memory = vips_image_write_to_memory(pointer, &size) else {
            throw Vips.error(.corrupt, "decoding")
        }
        defer { g_free(memory) }
        return [UInt8](UnsafeRawBufferPointer(start: memory, count: size))
    }
}
