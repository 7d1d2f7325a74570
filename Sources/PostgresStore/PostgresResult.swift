import CLibPQ

/// Owns one `PGresult`: "every command result should be freed via PQclear when it is no longer
/// needed" (libpq docs), including error results.
final class PostgresResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { PQclear(handle) }

    var status: ExecStatusType { PQresultStatus(handle) }
    var rowCount: Int32 { PQntuples(handle) }

    /// Whether the command succeeded (rows, no rows, or one row of a single-row-mode scan).
    var succeeded: Bool {
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE, PGRES_EMPTY_QUERY: true
        default: false
        }
    }

    /// The count `run` reports: `PQcmdTuples` ("" for commands that count nothing).
    var changedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    func errorField(_ field: Int32) -> String? {
        PQresultErrorField(handle, field).map { String(cString: $0) }
    }
}
