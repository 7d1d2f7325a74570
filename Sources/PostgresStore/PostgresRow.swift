import SQLStore
import CLibPQ

/// One row of a text-format result, valid only inside the row closure.
///
/// Every value arrives as text: numbers are parsed, `bytea` comes as hex (`\x…`), booleans as
/// `t`/`f` (1/0 for `int`). A value that does not parse reads as 0, as SQLite's would.
public struct PostgresRow: SQLRow {
    let result: OpaquePointer
    let row: Int32

    public func isNull(_ column: Int32) -> Bool { PQgetisnull(result, row, column) == 1 }

    public func int(_ column: Int32) -> Int64 {
        let value = text(column)
        if let number = Int64(value) { return number }
        switch value {
        case "t": return 1
        case "f", "": return 0
        default: return Double(value).map { $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) ?? 0 : 0 } ?? 0
        }
    }

    public func text(_ column: Int32) -> String {
        guard let value = PQgetvalue(result, row, column) else { return "" }
        return String(cString: value)
    }

    public func double(_ column: Int32) -> Double {
        let value = text(column)
        switch value {
        case "t": return 1
        case "f": return 0
        default: return Double(value) ?? 0
        }
    }

    /// Bytes of a `bytea` (decoded from hex); the UTF-8 of any other value.
    public func blob(_ column: Int32) -> [UInt8] {
        let length = Int(PQgetlength(result, row, column))
        guard length > 0, let value = PQgetvalue(result, row, column) else { return [] }
        let bytes = UnsafeRawBufferPointer(start: value, count: length)
        guard PQftype(result, column) == PostgresParameters.byteaOID else { return Array(bytes) }
        return Self.decodeHexBytea(bytes) ?? Array(bytes)
    }

    /// `\x` then two hex digits a byte (`bytea_output = hex`, the default since 9.0).
    static func decodeHexBytea(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
            return nil
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index < text.count {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
