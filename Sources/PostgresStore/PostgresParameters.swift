import SQLStore
import CLibPQ

/// Arguments laid out the way `PQexecParams`/`PQexecPrepared` take them.
///
/// Integers, reals and text go as untyped text: the server gives each parameter the type its
/// context needs, as it would a quoted literal, so one statement suits `integer`, `bigint`,
/// `boolean`, `jsonb` columns and functions taking `integer` alike, whatever the first call
/// bound (a prepared statement keeps the types of its first call). A parameter with no context
/// (`SELECT ? IS NULL` alone) needs a `CAST(? AS BIGINT)`. Blobs go as binary `bytea`.
struct PostgresParameters {
    static let byteaOID: Oid = 17

    private(set) var types: [Oid] = []
    private(set) var formats: [Int32] = []
    private(set) var lengths: [Int32] = []
    /// Offsets into `storage`; nil for SQL NULL.
    private var offsets: [Int?] = []
    /// Every value back to back, text values NUL-terminated; never empty, so its base address
    /// is never nil (a nil pointer would mean NULL to libpq).
    private var storage: [UInt8] = []

    var count: Int32 { Int32(types.count) }

    init(_ arguments: [SQLBindable]) throws {
        for argument in arguments {
            switch argument.sqlValue {
            case .null:
                append(type: 0, format: 0, bytes: nil)
            case .integer(let value):
                append(type: 0, format: 0, text: String(value))
            case .real(let value):
                append(type: 0, format: 0, text: Self.text(of: value))
            case .text(let value):
                guard !value.utf8.contains(0) else {
                    throw PostgresError(
                        sqlState: nil, message: "text argument holds a NUL byte, which PostgreSQL text cannot")
                }
                append(type: 0, format: 0, text: value)
            case .blob(let bytes):
                append(type: Self.byteaOID, format: 1, bytes: bytes)
            }
        }
        storage.append(0)
    }

    private mutating func append(type: Oid, format: Int32, text: String) {
        append(type: type, format: format, bytes: Array(text.utf8) + [0])
    }

    private mutating func append(type: Oid, format: Int32, bytes: [UInt8]?) {
        types.append(type)
        formats.append(format)
        if let bytes {
            offsets.append(storage.count)
            lengths.append(Int32(format == 1 ? bytes.count : bytes.count - 1))
            storage += bytes
        } else {
            offsets.append(nil)
            lengths.append(0)
        }
    }

    /// PostgreSQL's spellings of the values Swift prints as `inf` and `nan`.
    static func text(of value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return "\(value)"
    }

    /// Calls `body` with the value pointers libpq reads during the call (it copies them).
    func withValues<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in offset.map { base + $0 } }
            return values.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}
