#if canImport(Glibc)
    import Glibc
#endif

/// Small pure conversions of S3's wire formats, kept apart so tests need no server.
enum S3Formats {
    /// `2026-12-02T16:36:45.000Z` (listings) to unix seconds.
    static func iso8601(_ text: String) -> Double? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A else { return nil }
        guard let y = number(b[0..<4]), let mo = number(b[5..<7]), let d = number(b[8..<10]),
            let h = number(b[11..<13]), let mi = number(b[14..<16]), let s = number(b[17..<19])
        else { return nil }
        var fraction = 0.0
        if b[19] == 0x2E, let end = b[20...].firstIndex(where: { !(0x30...0x39).contains($0) }) {
            fraction = Double("0." + String(decoding: b[20..<end], as: UTF8.self)) ?? 0
        }
        return seconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s) + fraction
    }

    /// `Wed, 02 Dec 2026 16:36:45 GMT` (RFC 7231 IMF-fixdate, HEAD's Last-Modified) to unix seconds.
    static func httpDate(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, let d = Int(parts[1]), let y = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let m = months.firstIndex(of: String(parts[2])) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        return seconds(year: y, month: m + 1, day: d, hour: hms[0], minute: hms[1], second: hms[2])
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        Int(String(decoding: digits, as: UTF8.self))
    }

    private static func seconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Double {
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month - 1)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(hour)
        t.tm_min = Int32(minute)
        t.tm_sec = Int32(second)
        return Double(timegm(&t))
    }

    /// An ETag without the quotes S3 wraps it in.
    static func unquoted(_ etag: String?) -> String? {
        guard var etag, !etag.isEmpty else { return nil }
        if etag.hasPrefix("\"") { etag.removeFirst() }
        if etag.hasSuffix("\"") { etag.removeLast() }
        return etag
    }

    /// RFC 3986 percent-encoding, `/` kept: `x-amz-copy-source` names the source this way.
    static func encodedKeyPath(_ path: String) -> String {
        var out: [UInt8] = []
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(byte)
            default:
                out.append(contentsOf: Array(String(format3(byte)).utf8))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func format3(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0f)])
    }

    /// Lower-case hex, the form `x-amz-content-sha256` takes.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
