import CVips
import Foundation

/// libvips process state: started once, caches off, one worker thread per pipeline, untrusted
/// loaders blocked, and a gate bounding how many decodes run at once.
enum Vips {
    /// How many decodes may run at once across the process; more callers wait. libvips threads
    /// are set to one per pipeline, so this bounds the decode threads too.
    static let decodeSlots = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Started on first use; Swift runs a global's initialiser exactly once, thread-safely.
    private static let startup: ImageDecodingError? = {
        guard vips_init("assetdedup") == 0 else { return error(.startup, "vips_init") }
        // Every file is decoded once; a cache would only hold memory and open files.
        vips_cache_set_max(0)
        vips_cache_set_max_mem(0)
        vips_cache_set_max_files(0)
        // Concurrency comes from FastCGI threads (bounded by `gate`), not inside one image.
        vips_concurrency_set(1)
        // Loaders libvips marks untrusted (ImageMagick, PDF, JPEG 2000, JPEG XL...) are not
        // hardened against hostile input; we only feed sniffed JPEG, PNG, WebP, GIF and HEIF.
        vips_block_untrusted_set(1)
        adshim_vips_quiet_warnings()
        return nil
    }()

    private static let gate = DispatchSemaphore(value: decodeSlots)

    /// Runs `body` once libvips is up, inside one of the `decodeSlots`.
    static func withSlot<T>(_ body: () throws(ImageDecodingError) -> T) throws(ImageDecodingError) -> T {
        if let failure = startup { throw failure }
        gate.wait()
        defer { gate.signal() }
        return try body()
    }

    /// The error libvips recorded for the failed call, as ours. The buffer is process-wide, so
    /// under concurrency a message may carry another thread's words; the code is always ours.
    static func error(_ code: ImageDecodingError.Code, _ what: String) -> ImageDecodingError {
        let buffer = vips_error_buffer().map { String(cString: $0) } ?? ""
        vips_error_clear()
        let detail = buffer.split(separator: "\n").prefix(2).joined(separator: "; ")
        return ImageDecodingError(code, detail.isEmpty ? "\(what) failed" : "\(what): \(detail)")
    }
}
