import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// A request body that curl pulls as it sends: bytes in memory, or a range of a file read with
/// `pread` (so a large part is never held whole, and the same file can be read by several
/// transfers at once, each at its own offset).
final class RequestBody {
    private enum Source {
        case memory([UInt8])
        case file(fd: Int32, offset: Int64)
    }

    private let source: Source
    let length: Int64
    private var sent: Int64 = 0
    /// Why a read failed, for the error `perform` throws.
    private(set) var failure: String?

    init(bytes: [UInt8]) {
        source = .memory(bytes)
        length = Int64(bytes.count)
    }

    init(path: String, offset: Int64, length: Int64) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CurlError(CURLE_READ_ERROR, message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        source = .file(fd: fd, offset: offset)
        self.length = length
    }

    deinit {
        if case .file(let fd, _) = source { close(fd) }
    }

    /// Fills `buffer` with the next bytes; 0 at the end. A read error or a file shorter than
    /// promised aborts the transfer (`CURL_READFUNC_ABORT`) rather than sending a short body.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let want = Int(min(Int64(buffer.count), length - sent))
        guard want > 0 else { return 0 }
        switch source {
        case .memory(let bytes):
            bytes.withUnsafeBytes { all in
                buffer.baseAddress!.copyMemory(from: all.baseAddress! + Int(sent), byteCount: want)
            }
            sent += Int64(want)
            return want
        case .file(let fd, let offset):
            while true {
                let n = pread(fd, buffer.baseAddress!, want, off_t(offset + sent))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = n == 0 ? "the file ended before \(length) bytes" : String(cString: strerror(errno))
                    return Int(CURL_READFUNC_ABORT)
                }
                sent += Int64(n)
                return n
            }
        }
    }
}
