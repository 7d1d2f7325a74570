/// A request body that arrives in chunks; never held whole in memory.
public protocol RequestBody {
    /// Reads up to `buffer.count` bytes; 0 means the body ended. Throws when the stream broke.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A body already in memory: for in-process tests and small bodies.
public final class BytesBody: RequestBody {
    private let bytes: [UInt8]
    private var offset = 0
    /// Caps each read, to exercise chunk boundaries in tests.
    private let chunk: Int

    public init(_ bytes: [UInt8], chunk: Int = .max) {
        self.bytes = bytes
        self.chunk = chunk
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset, chunk)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}

/// The parts of an HTTP request the API looks at; transport-neutral (FastCGI fills it in).
public struct HTTPRequest {
    public var method: String
    /// The path without the query string, percent-decoding not applied (ids are digits).
    public var path: String
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: any RequestBody

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: any RequestBody = BytesBody([])) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Splits `/a/b?x=1&y=2` into path and decoded query items.
    public static func split(uri: String) -> (path: String, query: [String: String]) {
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            // Keep empty pieces: `?=` split to [] with the default and `parts[0]` trapped,
            // taking the whole process down for one request without a token.
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncodingOrSelf
            query[name] = parts.count > 1 ? String(parts[1]).removingPercentEncodingOrSelf : ""
        }
        return (String(uri[..<mark]), query)
    }

    public var contentLength: Int64? { headers["content-length"].flatMap { Int64($0) } }
}

extension String {
    /// Form-style decoding (`%XX`, `+` as space). A `%` not followed by two hex digits is kept
    /// as it is, with what follows it (it used to swallow the next two characters).
    var removingPercentEncodingOrSelf: String {
        guard contains("%") || contains("+") else { return self }
        let source = Array(utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(source.count)
        var index = 0
        while index < source.count {
            let byte = source[index]
            if byte == UInt8(ascii: "%"), index + 2 < source.count,
                let high = Self.hexValue(source[index + 1]), let low = Self.hexValue(source[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
                continue
            }
            bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
