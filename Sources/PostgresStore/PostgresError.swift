import SQLStore

/// A failed PostgreSQL call: the SQLSTATE the server sent, its message, and the SQL that failed.
///
/// Callers match on `sqlState` (or `SQLFailure`'s questions) rather than on message text.
/// `sqlState` is nil when the failure came from the client side: no connection, a lost
/// connection, or arguments that do not fit the statement.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The five-character SQLSTATE (`PG_DIAG_SQLSTATE`), e.g. "23505" for a UNIQUE violation.
    public let sqlState: String?
    public let message: String
    public let sql: String?
    /// The connection was not usable when the call ended (libpq's `CONNECTION_BAD`).
    public let connectionLost: Bool

    public init(sqlState: String?, message: String, sql: String? = nil, connectionLost: Bool = false) {
        self.sqlState = sqlState
        self.message = message
        self.sql = sql
        self.connectionLost = connectionLost
    }

    /// A serialisation failure (40001) or a deadlock (40P01): the transaction may succeed if run again.
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }

    public var description: String {
        var text = "PostgreSQL error \(sqlState ?? (connectionLost ? "(connection)" : "(client)")): \(message)"
        if let sql { text += " (in: \(sql.prefix(200)))" }
        return text
    }
}

extension PostgresError: SQLFailure {
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// Worth answering 503 + Retry-After: the server is down, restarting, out of connections,
    /// or refused this transaction for reasons that pass (conflicts after the retries ran out,
    /// a lock or statement timeout).
    public var isTransient: Bool {
        if connectionLost { return true }
        guard let sqlState else { return false }
        if sqlState.hasPrefix("08") { return true }  // connection_exception
        return Self.transientStates.contains(sqlState)
    }

    private static let transientStates: Set<String> = [
        "57P01",  // admin_shutdown
        "57P02",  // crash_shutdown
        "57P03",  // cannot_connect_now (starting up, shutting down)
        "53300",  // too_many_connections
        "40001",  // serialization_failure
        "40P01",  // deadlock_detected
        "55P03",  // lock_not_available (lock_timeout)
        "57014",  // query_canceled (statement_timeout)
    ]
}
