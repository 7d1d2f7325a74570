import SQLStore
import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One blocking libpq connection, owned by one FastCGI worker thread at a time.
///
/// Blocking libpq rather than an event-loop driver: the store runs on blocking worker threads,
/// one connection each, the way libcurl is used. The type is deliberately not `Sendable`.
/// A connection that broke (server restart, terminated backend) is re-established at the start
/// of the next call; the call that met the break fails with a transient `PostgresError`.
public final class PostgresConnection: SQLConnection {
    public typealias Row = PostgresRow

    /// The `PGconn`; `PQfinish` in `deinit` frees it, whether or not it ever connected.
    let handle: OpaquePointer
    /// Prepared statements by SQL text; they live and die with the server session.
    private var statements: [String: PreparedStatement] = [:]
    private var statementCounter = 0
    /// Open `writeTransaction`/`readTransaction` calls; a nested one just runs its body.
    private var transactionDepth = 0
    /// A 40001/40P01 failure happened in the current transaction attempt, even if `body`
    /// wrapped the error in one of its own.
    private var attemptHitSerializationFailure = false
    private let retryPolicy: TransactionRetryPolicy

    /// Transactions run again after a serialisation failure or deadlock, since this connection
    /// opened (for tests and metrics).
    public private(set) var serializationRetries = 0

    private struct PreparedStatement {
        let name: String
        let translation: PlaceholderTranslation
    }

    /// Connects to `url` (`postgres://` / `postgresql://` URI or a `key=value` string).
    ///
    /// Unless the URL says otherwise: `connect_timeout` of `connectTimeoutSeconds`, TCP
    /// keepalives (a dead server is noticed in about 30 s rather than hours), and
    /// `application_name=assetdedup`. The session runs in UTC.
    public init(url: String, connectTimeoutSeconds: Int = 5, retryPolicy: TransactionRetryPolicy = .init()) throws {
        self.retryPolicy = retryPolicy
        // Settings before `dbname` are defaults: libpq lets the expanded URL override them.
        let settings: [(String, String)] = [
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("keepalives", "1"),
            ("keepalives_idle", "10"),
            ("keepalives_interval", "5"),
            ("keepalives_count", "4"),
            ("application_name", "assetdedup"),
            ("dbname", url),
        ]
        let keywords = settings.map { strdup($0.0) }
        let values = settings.map { strdup($0.1) }
        defer { for pointer in keywords + values { free(pointer) } }
        let keywordList = keywords.map { $0.map { UnsafePointer($0) } } + [nil]
        let valueList = values.map { $0.map { UnsafePointer($0) } } + [nil]
        guard let handle = PQconnectdbParams(keywordList, valueList, 1) else {
            throw PostgresError(sqlState: nil, message: "libpq could not allocate a connection", connectionLost: true)
        }
        self.handle = handle
        // NOTICEs (e.g. "drop cascades to ...") would go to stderr; library code does not print.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        guard PQstatus(handle) == CONNECTION_OK else {
            // deinit runs PQfinish: "the application should call PQfinish to free the memory used
            // by the PGconn object" even when the connection attempt fails.
            throw lostConnection("could not connect")
        }
        try configureSession()
    }

    deinit { PQfinish(handle) }

    /// The server process serving this session (`pg_backend_pid()`), 0 when not connected.
    public var backendPID: Int32 { PQbackendPID(handle) }

    // MARK: Errors

    private var libpqMessage: String {
        String(cString: PQerrorMessage(handle)).trimmingTrailingWhitespace
    }

    private func lostConnection(_ context: String, sql: String? = nil) -> PostgresError {
        PostgresError(sqlState: nil, message: "\(context): \(libpqMessage)", sql: sql, connectionLost: true)
    }

    /// Takes ownership of a result and turns a failed one into a `PostgresError`.
    private func check(_ raw: OpaquePointer?, sql: String) throws -> PostgresResult {
        guard let raw else {
            throw PostgresError(
                sqlState: nil, message: libpqMessage, sql: sql, connectionLost: PQstatus(handle) != CONNECTION_OK)
        }
        let result = PostgresResult(raw)
        guard result.succeeded else { throw failure(of: result, sql: sql) }
        return result
    }

    private func failure(of result: PostgresResult, sql: String) -> PostgresError {
        let message =
            result.errorField(CLIBPQ_DIAG_MESSAGE_PRIMARY)
            ?? String(cString: PQresultErrorMessage(result.handle)).trimmingTrailingWhitespace
        let error = PostgresError(
            sqlState: result.errorField(CLIBPQ_DIAG_SQLSTATE), message: message, sql: sql,
            connectionLost: PQstatus(handle) != CONNECTION_OK)
        if error.isSerializationFailure && transactionDepth > 0 { attemptHitSerializationFailure = true }
        return error
    }

    // MARK: Session

    /// UTC timestamps; no parallel workers: every statement here is a short indexed lookup on a
    /// connection per thread, and a Gather's worker start-up (~6 ms measured on the
    /// near-duplicate search, whose four index scans take ~3 ms) costs more than it saves.
    private func configureSession() throws {
        for sql in ["SET TimeZone TO 'UTC'", "SET max_parallel_workers_per_gather = 0"] {
            _ = try check(PQexec(handle, sql), sql: sql)
        }
    }

    /// Re-establishes a broken session before a call. Inside a transaction a broken session is
    /// an error: the transaction is gone, and running on in autocommit would hide that.
    private func ensureConnected() throws {
        guard PQstatus(handle) != CONNECTION_OK else { return }
        statements.removeAll()
        guard transactionDepth == 0 else { throw lostConnection("connection lost inside a transaction") }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else { throw lostConnection("could not reconnect") }
        try configureSession()
    }

    // MARK: Running SQL

    public func execute(_ sql: String) throws {
        try ensureConnected()
        _ = try check(PQexec(handle, sql), sql: sql)
    }

    /// The statement prepared for `sql` on this session, preparing it (typed after `parameters`) once.
    private func prepared(_ sql: String, _ parameters: PostgresParameters) throws -> PreparedStatement {
        if let statement = statements[sql] { return statement }
        statementCounter += 1
        let statement = PreparedStatement(
            name: "assetdedup_\(statementCounter)", translation: PlaceholderTranslation(sql))
        try checkArity(statement.translation, parameters, sql: sql)
        _ = try check(
            PQprepare(handle, statement.name, statement.translation.text, parameters.count, parameters.types), sql: sql)
        statements[sql] = statement
        return statement
    }

    private func checkArity(_ translation: PlaceholderTranslation, _ parameters: PostgresParameters, sql: String) throws
    {
        guard translation.parameterCount == Int(parameters.count) else {
            throw PostgresError(
                sqlState: nil,
                message: "statement takes \(translation.parameterCount) arguments, was given \(parameters.count)",
                sql: sql)
        }
    }

    /// Runs one statement to completion and returns its whole result.
    private func exec(_ sql: String, _ arguments: [SQLBindable], cached: Bool) throws -> PostgresResult {
        try ensureConnected()
        let parameters = try PostgresParameters(arguments)
        if cached {
            let statement = try prepared(sql, parameters)
            try checkArity(statement.translation, parameters, sql: sql)
            return try check(
                parameters.withValues {
                    PQexecPrepared(
                        handle, statement.name, parameters.count, $0, parameters.lengths, parameters.formats, 0)
                }, sql: sql)
        }
        let translation = PlaceholderTranslation(sql)
        try checkArity(translation, parameters, sql: sql)
        return try check(
            parameters.withValues {
                PQexecParams(
                    handle, translation.text, parameters.count, parameters.types, $0, parameters.lengths,
                    parameters.formats, 0)
            }, sql: sql)
    }

    public func query<T>(_ sql: String, _ arguments: [SQLBindable], cached: Bool, row transform: (Row) throws -> T)
        throws -> [T]
    {
        let result = try exec(sql, arguments, cached: cached)
        var rows: [T] = []
        rows.reserveCapacity(Int(result.rowCount))
        for row in 0..<result.rowCount {
            rows.append(try transform(PostgresRow(result: result.handle, row: row)))
        }
        return rows
    }

    @discardableResult
    public func run(_ sql: String, _ arguments: [SQLBindable], cached: Bool) throws -> Int {
        try exec(sql, arguments, cached: cached).changedRows
    }

    /// Streams rows in libpq's single-row mode: a million-row report scan holds one row at a
    /// time. If `body` throws, the query is cancelled and what is left of it is drained.
    public func forEachRow(_ sql: String, _ arguments: [SQLBindable], cached: Bool, _ body: (Row) throws -> Void)
        throws
    {
        try ensureConnected()
        let parameters = try PostgresParameters(arguments)
        let sent: Int32
        if cached {
            let statement = try prepared(sql, parameters)
            try checkArity(statement.translation, parameters, sql: sql)
            sent = parameters.withValues {
                PQsendQueryPrepared(
                    handle, statement.name, parameters.count, $0, parameters.lengths, parameters.formats, 0)
            }
        } else {
            let translation = PlaceholderTranslation(sql)
            try checkArity(translation, parameters, sql: sql)
            sent = parameters.withValues {
                PQsendQueryParams(
                    handle, translation.text, parameters.count, parameters.types, $0, parameters.lengths,
                    parameters.formats, 0)
            }
        }
        guard sent == 1 else { throw lostConnection("could not send the query", sql: sql) }
        PQsetSingleRowMode(handle)
        var firstError: Error?
        // "PQgetResult must be called repeatedly until it returns a null pointer."
        while let raw = PQgetResult(handle) {
            let result = PostgresResult(raw)
            guard firstError == nil else { continue }
            switch result.status {
            case PGRES_SINGLE_TUPLE:
                do { try body(PostgresRow(result: raw, row: 0)) } catch {
                    firstError = error
                    cancelRunningQuery()
                }
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                break
            default:
                firstError = failure(of: result, sql: sql)
            }
        }
        if let firstError { throw firstError }
    }

    /// Asks the server to stop the running query (its remaining rows are then drained).
    private func cancelRunningQuery() {
        guard let cancel = PQgetCancel(handle) else { return }
        defer { PQfreeCancel(cancel) }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, Int32(buffer.count))
    }

    // MARK: Transactions

    public var inTransaction: Bool {
        switch PQtransactionStatus(handle) {
        case PQTRANS_INTRANS, PQTRANS_INERROR, PQTRANS_ACTIVE: true
        default: false
        }
    }

    /// `SERIALIZABLE`, run again (up to `retryPolicy.attempts` times, with a short jittered
    /// backoff) when PostgreSQL reports a serialisation failure or a deadlock, so `body` must
    /// only touch the database. Inside another transaction it just runs `body`.
    public func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        guard transactionDepth == 0 && !inTransaction else { return try body() }
        var attempt = 1
        while true {
            attemptHitSerializationFailure = false
            do {
                return try transaction("BEGIN ISOLATION LEVEL SERIALIZABLE", body)
            } catch {
                let conflict =
                    (error as? PostgresError)?.isSerializationFailure == true || attemptHitSerializationFailure
                guard conflict, attempt < retryPolicy.attempts else { throw error }
                serializationRetries += 1
                retryPolicy.sleep(retryPolicy.delay(afterAttempt: attempt, jitter: Double.random(in: 0..<1)))
                attempt += 1
            }
        }
    }

    /// `REPEATABLE READ READ ONLY`: every read in `body` sees one snapshot.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        guard transactionDepth == 0 && !inTransaction else { return try body() }
        return try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func transaction<T>(_ begin: String, _ body: () throws -> T) throws -> T {
        do {
            try execute(begin)
        } catch let error as PostgresError where error.connectionLost {
            // The server went away while this connection sat idle (a restart): nothing of this
            // transaction ran yet, so reconnecting and beginning again is safe.
            try execute(begin)
        }
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        do {
            let value = try body()
            // A statement that failed inside `body` aborted the transaction even if `body` caught
            // the error; COMMIT would then quietly roll back. Say so instead.
            if PQtransactionStatus(handle) == PQTRANS_INERROR {
                throw PostgresError(
                    sqlState: "25P02", message: "the transaction was aborted by an earlier failed statement",
                    sql: "COMMIT")
            }
            _ = try check(PQexec(handle, "COMMIT"), sql: "COMMIT")
            return value
        } catch {
            rollBackIfOpen()
            throw error
        }
    }

    private func rollBackIfOpen() {
        guard PQstatus(handle) == CONNECTION_OK, inTransaction else { return }
        if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
    }

    /// Runs `body` failing at once (55P03, transient) instead of queueing behind another
    /// writer's row or table lock: for best-effort writes that must not hold a request up.
    public func withoutWaitingForLocks<T>(_ body: () throws -> T) throws -> T {
        try execute("SET lock_timeout = '1ms'")
        // In an aborted transaction RESET fails, and the rollback undoes the SET anyway.
        defer { try? execute("RESET lock_timeout") }
        return try body()
    }

    /// PostgreSQL has no cheap counter of committed changes; caches revalidate by query.
    public var dataVersion: UInt64? { nil }
}

extension String {
    fileprivate var trimmingTrailingWhitespace: String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
