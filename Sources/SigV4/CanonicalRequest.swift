/// The canonical request of SigV4 step 1, built from a `SigV4Request`, and the encodings it needs.
///
/// Kept apart from the signer so each rule (path, query, headers) is one small function over values.
struct CanonicalRequest {
    /// The path as sent on the wire: each segment percent-encoded once.
    let wirePath: String
    /// The sorted, encoded query without `X-Amz-Signature`; also the query sent on the wire.
    let query: String
    /// `name;name;...`, sorted, lower case.
    let signedHeaders: String
    /// The six lines joined with `\n`, hashed into the string to sign.
    let text: String

    init(
        request: SigV4Request, headers: [SigV4Request.Header], queryItems: [SigV4Request.QueryItem],
        doubleEncodesPath: Bool
    ) {
        wirePath = Self.encodedPath(request.path, times: 1)
        let canonicalPath = doubleEncodesPath ? Self.encodedPath(request.path, times: 2) : wirePath
        query = Self.canonicalQuery(queryItems)
        let fields = Self.canonicalHeaders(headers)
        signedHeaders = fields.map(\.name).joined(separator: ";")
        let headerLines = fields.map { "\($0.name):\($0.value)\n" }.joined()
        text = [
            request.method, canonicalPath, query, headerLines, signedHeaders, request.payload.canonicalValue,
        ].joined(separator: "\n")
    }

    /// Encodes each `/`-separated segment `times` times; S3 wants once, other services twice.
    ///
    /// Empty segments and dot segments are kept as they are: S3 keys may contain `//` and `..`, and S3
    /// signs the path it receives without normalising it.
    static func encodedPath(_ path: String, times: Int) -> String {
        if path.isEmpty { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            var encoded = String(segment)
            for _ in 0..<times { encoded = uriEncode(encoded) }
            return encoded
        }.joined(separator: "/")
    }

    /// Encoded `name=value` pairs sorted by encoded name, then value, byte by byte.
    static func canonicalQuery(_ items: [SigV4Request.QueryItem]) -> String {
        items.map { (uriEncode($0.name), uriEncode($0.value ?? "")) }
            .sorted { a, b in
                a.0 == b.0 ? a.1.utf8.lexicographicallyPrecedes(b.1.utf8) : a.0.utf8.lexicographicallyPrecedes(b.0.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lower-case names, sorted; repeated names joined with `,` in the order given; values trimmed with
    /// each run of whitespace (folded lines too) made one space.
    static func canonicalHeaders(_ headers: [SigV4Request.Header]) -> [SigV4Request.Header] {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(trimAll(header.value))
        }
        return order.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map {
            SigV4Request.Header($0, values[$0]!.joined(separator: ","))
        }
    }

    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).joined(separator: " ")
    }

    /// RFC 3986 percent-encoding of UTF-8 bytes; only unreserved characters (`A-Z a-z 0-9 - . _ ~`) stay.
    static func uriEncode(_ string: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hexDigitsUpper[Int(byte >> 4)])
                out.append(hexDigitsUpper[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigitsUpper = Array("0123456789ABCDEF".utf8)
}
