#if canImport(Glibc)
    import Glibc
#endif

/// The answer as it arrives: headers, and a body either kept in memory, refused past `limit`
/// (a provider or a server must not make us hold an arbitrary amount of memory), or, for a
/// 2xx answer when `file` is set, written straight to that descriptor.
final class ResponseBuffer {
    let limit: Int
    private(set) var bytes: [UInt8] = []
    private(set) var overflowed = false
    private(set) var headers: [(name: String, value: String)] = []
    /// The status of the answer being read, from its status line.
    private(set) var status = 0
    /// Where a 2xx body goes instead of memory; owned by the caller.
    var file: Int32?
    /// Sees each chunk written to `file` (to hash it on the way).
    var observer: ((UnsafeRawBufferPointer) -> Void)?
    private(set) var bytesWritten: Int64 = 0
    /// `errno` of a failed write to `file`.
    private(set) var fileError: Int32?

    init(limit: Int) { self.limit = limit }

    func append(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if let file, (200..<300).contains(status) {
            return write(chunk, to: file)
        }
        guard bytes.count + chunk.count <= limit else {
            overflowed = true
            return false
        }
        bytes.append(contentsOf: chunk)
        return true
    }

    /// One header line as curl hands it over (`Name: value\r\n`); a status line starts a new
    /// answer (after a `100 Continue`, the real one), so earlier headers are dropped.
    func headerLine(_ raw: UnsafeRawBufferPointer) {
        let line = String(decoding: raw, as: UTF8.self).trimmingSuffix()
        if line.hasPrefix("HTTP/") {
            headers = []
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = String(line[line.index(after: colon)...]).trimmingPrefixSpaces()
        headers.append((name, value))
    }

    private func write(_ chunk: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
        var done = 0
        while done < chunk.count {
            let n = Glibc.write(fd, chunk.baseAddress! + done, chunk.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                fileError = errno
                return false
            }
            done += n
        }
        bytesWritten += Int64(done)
        observer?(chunk)
        return true
    }
}

extension String {
    fileprivate func trimmingSuffix() -> String {
        var s = Substring(self)
        while let last = s.last, last.isNewline || last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }

    fileprivate func trimmingPrefixSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" })
    }
}
