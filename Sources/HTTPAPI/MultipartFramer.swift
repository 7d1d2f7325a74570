#if canImport(Glibc)
    import Glibc
#endif

/// Frames a `multipart/form-data` body into parts: each part's header lines, its body bytes and
/// its end. A state machine fed chunks of any size; it keeps at most one partial delimiter and
/// one header line between chunks.
///
/// Our own because multipart-kit 4.7.1's parser traps (index out of range) on a header-name
/// byte >= 0x80: one crafted upload took the whole process down. Bytes outside the grammar are
/// a `SyntaxError` here, never a trap.
final class MultipartFramer {
    /// The body does not follow the multipart grammar (RFC 2046 section 5.1.1, without transport padding).
    struct SyntaxError: Error, CustomStringConvertible {
        let description: String
    }

    private enum State {
        case preamble
        /// After a delimiter: `\r\n` starts a part's headers, `--` ends the body.
        case afterDelimiter(first: UInt8?)
        case headers(line: [UInt8])
        case body
        case epilogue
    }

    /// `\r\n--<boundary>`; the body is read as if it began with `\r\n`.
    private let delimiter: [UInt8]
    private var state: State = .preamble
    /// The tail of the last chunk that may start a delimiter; resolved by the next chunk.
    private var carry: [UInt8] = Array("\r\n".utf8)
    private var headerBytes = 0
    static let maxHeaderBytesPerPart = 16 << 10

    var onHeader: (String, String) -> Void = { _, _ in }
    var onBody: (UnsafeRawBufferPointer) -> Void = { _ in }
    var onPartComplete: () -> Void = {}

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// Whether the closing delimiter has been seen.
    var isComplete: Bool {
        if case .epilogue = state { return true }
        return false
    }

    func execute(_ chunk: UnsafeRawBufferPointer) throws {
        if carry.isEmpty {
            try process(chunk)
        } else {
            let joined = carry + chunk
            carry = []
            try joined.withUnsafeBytes { try process($0) }
        }
    }

    private func process(_ bytes: UnsafeRawBufferPointer) throws {
        var position = 0
        while position < bytes.count {
            switch state {
            case .preamble, .body:
                position = try scanForDelimiter(bytes, from: position)
            case .afterDelimiter(let first):
                let byte = bytes[position]
                position += 1
                guard let first else {
                    state = .afterDelimiter(first: byte)
                    continue
                }
                switch (first, byte) {
                case (UInt8(ascii: "\r"), UInt8(ascii: "\n")):
                    headerBytes = 0
                    state = .headers(line: [])
                case (UInt8(ascii: "-"), UInt8(ascii: "-")):
                    state = .epilogue
                default:
                    throw SyntaxError(description: "a delimiter must be followed by CRLF or '--'")
                }
            case .headers(var line):
                state = .preamble  // drop the enum's reference so `line` appends in place
                let newline = bytes[position...].firstIndex(of: UInt8(ascii: "\n"))
                let end = newline ?? bytes.count
                headerBytes += end - position
                guard headerBytes <= Self.maxHeaderBytesPerPart else {
                    throw SyntaxError(description: "a part's headers exceed \(Self.maxHeaderBytesPerPart) bytes")
                }
                line.append(contentsOf: bytes[position..<end])
                position = end
                guard newline != nil else {
                    state = .headers(line: line)
                    continue
                }
                position += 1
                guard line.last == UInt8(ascii: "\r") else {
                    throw SyntaxError(description: "header lines end with CRLF")
                }
                line.removeLast()
                if line.isEmpty {
                    state = .body
                } else {
                    try header(line)
                    state = .headers(line: [])
                }
            case .epilogue:
                return
            }
        }
    }

    /// Looks for the delimiter from `start`; emits body bytes before it (in `.body`), keeps a
    /// possible partial delimiter at the end in `carry`, and returns where to go on.
    private func scanForDelimiter(_ bytes: UnsafeRawBufferPointer, from start: Int) throws -> Int {
        let inBody: Bool
        if case .body = state { inBody = true } else { inBody = false }
        var search = start
        while search < bytes.count {
            guard let base = bytes.baseAddress,
                let found = memchr(base + search, Int32(delimiter[0]), bytes.count - search)
            else {
                break
            }
            let candidate = base.distance(to: UnsafeRawPointer(found))
            let available = min(delimiter.count, bytes.count - candidate)
            let matches = (0..<available).allSatisfy { bytes[candidate + $0] == delimiter[$0] }
            if matches && available == delimiter.count {
                if inBody {
                    if candidate > start { onBody(UnsafeRawBufferPointer(rebasing: bytes[start..<candidate])) }
                    onPartComplete()
                }
                state = .afterDelimiter(first: nil)
                return candidate + delimiter.count
            }
            if matches {
                // A partial delimiter at the very end: hold it back until the next chunk.
                if inBody && candidate > start { onBody(UnsafeRawBufferPointer(rebasing: bytes[start..<candidate])) }
                carry = Array(bytes[candidate...])
                return bytes.count
            }
            search = candidate + 1
        }
        if inBody && bytes.count > start { onBody(UnsafeRawBufferPointer(rebasing: bytes[start...])) }
        return bytes.count
    }

    /// `Name: value`; the name must be an RFC 9110 token.
    private func header(_ line: [UInt8]) throws {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
            throw SyntaxError(description: "a header line needs a name and a colon")
        }
        let isToken = line[..<colon].allSatisfy { byte in
            byte > 0x20 && byte < 0x7f && !Array("\"(),/:;<=>?@[\\]{}".utf8).contains(byte)
        }
        guard isToken else { throw SyntaxError(description: "a header name may only hold token characters") }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let value = line[(colon + 1)...].drop(while: isBlank).reversed().drop(while: isBlank).reversed()
        onHeader(String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}
