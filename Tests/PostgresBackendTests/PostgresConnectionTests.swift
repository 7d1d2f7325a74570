import SQLiteStore
import Foundation
import PostgresStore
import PostgresTestSupport
import Synchronization
import Testing

@Suite("PostgresConnection against a real server", .enabled(if: !TestCluster.isSkipped))
struct PostgresConnectionTests {
    @Test("int, text, null, blob and double round-trip through a table, cached and not")
    func roundTrip() throws {
        try TestCluster.withConnection { db in
            try db.execute("CREATE TABLE v (i BIGINT, s TEXT, n TEXT, b BYTEA, d DOUBLE PRECISION)")
            let blob: [UInt8] = [0, 1, 0x5c, 0x78, 0xff, 0x27]
            let rows: [[SQLBindable]] = [
                [Int64.max, "héllo 'quoted' ?", SQLValue.null, SQLValue.blob(blob), 0.1],
                [Int64.min, "", SQLValue.null, SQLValue.blob([]), -2.5e300],
            ]
            for (index, row) in rows.enumerated() {
                try db.run("INSERT INTO v VALUES (?, ?, ?, ?, ?)", row, cached: index == 0)
            }
            struct Row: Equatable {
                var i: Int64, s: String, nIsNull: Bool, b: [UInt8], d: Double
            }
            let read = try db.query("SELECT i, s, n, b, d FROM v ORDER BY i DESC") { row in
                Row(i: row.int(0), s: row.text(1), nIsNull: row.isNull(2), b: row.blob(3), d: row.double(4))
            }
            #expect(
                read == [
                    Row(i: .max, s: "héllo 'quoted' ?", nIsNull: true, b: blob, d: 0.1),
                    Row(i: .min, s: "", nIsNull: true, b: [], d: -2.5e300),
                ])
            let (t, f, count) = try #require(
                try db.queryFirst("SELECT 1 = 1, 1 = 2, count(*) FROM v WHERE s = ?2 OR i = ?1", [Int64.min, ""]) {
                    ($0.int(0), $0.int(1), $0.int(2))
                })
            #expect([t, f, count] == [1, 0, 1])
            #expect(try db.queryFirst("SELECT ? + 1, ?", [41, 1.5]) { [$0.double(0), $0.double(1)] } == [42, 1.5])
        }
    }

    @Test("one prepared statement serves integer, boolean and function contexts, NULL bound first or not")
    func parameterTypes() throws {
        try TestCluster.withConnection { db in
            try db.execute(
                "CREATE TABLE p (i INTEGER, big BIGINT, flag BOOLEAN); INSERT INTO p VALUES (1, 5000000000, true)")
            // A bare `?1 IS NULL` gives the parameter no type; shared SQL writes CAST (harmless on SQLite).
            let bare = try #require(throws: PostgresError.self) {
                try db.queryFirst("SELECT count(*) FROM p WHERE (?1 IS NULL OR i = ?1)", [1]) { $0.int(0) }
            }
            #expect(bare.sqlState == "42P08")
            let optionalFilter = "SELECT count(*) FROM p WHERE (CAST(?1 AS BIGINT) IS NULL OR i = ?1)"
            #expect(try db.queryFirst(optionalFilter, [Int64?.none]) { $0.int(0) } == 1)
            #expect(try db.queryFirst(optionalFilter, [2]) { $0.int(0) } == 0)
            #expect(try db.queryFirst(optionalFilter, [1]) { $0.int(0) } == 1)
            #expect(try db.run("UPDATE p SET flag = ? WHERE big = ?", [false, 5_000_000_000]) == 1)
            #expect(
                try db.queryFirst("SELECT flag, substr('hello', ?, ?) FROM p", [2, 3]) { "\($0.int(0)) \($0.text(1))" }
                    == "0 ell")
        }
    }

    @Test("run returns the rows changed")
    func runCounts() throws {
        try TestCluster.withConnection { db in
            try db.execute("CREATE TABLE c (x BIGINT); INSERT INTO c VALUES (1), (2), (3)")
            #expect(try db.run("UPDATE c SET x = x + 10 WHERE x >= ?", [2]) == 2)
            #expect(try db.run("UPDATE c SET x = x + 10 WHERE x >= ?", [100], cached: false) == 0)
            #expect(try db.run("INSERT INTO c VALUES (?), (?)", [7, 8]) == 2)
            #expect(try db.run("DELETE FROM c") == 5)
        }
    }

    @Test("a unique violation is classified, not transient, with SQLSTATE and SQL in the description")
    func uniqueViolation() throws {
        try TestCluster.withConnection { db in
            try db.execute("CREATE TABLE u (x BIGINT UNIQUE)")
            try db.run("INSERT INTO u VALUES (?)", [1])
            let error = try #require(throws: PostgresError.self) { try db.run("INSERT INTO u VALUES (?)", [1]) }
            #expect(error.isUniqueViolation)
            #expect(!error.isTransient)
            #expect(error.sqlState == "23505")
            #expect(
                error.description.hasPrefix("PostgreSQL error 23505: duplicate key value violates unique constraint"))
            #expect(error.description.hasSuffix("(in: INSERT INTO u VALUES (?))"))
        }
    }

    @Test("the wrong number of arguments is refused before the server sees it")
    func arity() throws {
        try TestCluster.withConnection { db in
            let error = try #require(throws: PostgresError.self) { try db.run("SELECT ?, ?", [1]) }
            #expect(error.message == "statement takes 2 arguments, was given 1")
        }
    }

    @Test("a serialisation failure is retried and both writes land")
    func retriedConflict() throws {
        try TestCluster.withSchema { url in
            let a = try PostgresConnection(url: url)
            let b = try PostgresConnection(url: url)
            try a.execute("CREATE TABLE counter (n BIGINT); INSERT INTO counter VALUES (0)")
            var attempts = 0
            try a.writeTransaction {
                attempts += 1
                let n = try a.queryFirst("SELECT n FROM counter") { $0.int(0) }!
                // Another writer commits between this transaction's read and its write.
                if attempts == 1 { try b.run("UPDATE counter SET n = n + 1") }
                try a.run("UPDATE counter SET n = ?", [n + 1])
            }
            #expect(attempts == 2)
            #expect(a.serializationRetries == 1)
            #expect(try a.queryFirst("SELECT n FROM counter") { $0.int(0) } == 2)
        }
    }

    @Test("two threads each adding 1 two hundred times by read-then-update: 400, no lost update")
    func noLostUpdate() throws {
        try TestCluster.withSchema { url in
            let setup = try PostgresConnection(url: url)
            try setup.execute("CREATE TABLE counter (n BIGINT); INSERT INTO counter VALUES (0)")
            let failures = Mutex<[String]>([])
            let retries = Mutex(0)
            let connected = DispatchSemaphore(value: 0)
            let start = DispatchSemaphore(value: 0)
            let finished = DispatchGroup()
            for _ in 0..<2 {
                finished.enter()
                Thread {
                    defer { finished.leave() }
                    do {
                        let db = try PostgresConnection(url: url)
                        connected.signal()
                        start.wait()  // both connected: the loops overlap from the first transaction
                        for _ in 0..<200 {
                            try db.writeTransaction {
                                let n = try db.queryFirst("SELECT n FROM counter") { $0.int(0) }!
                                try db.run("UPDATE counter SET n = ?", [n + 1])
                            }
                        }
                        retries.withLock { $0 += db.serializationRetries }
                    } catch {
                        connected.signal()
                        failures.withLock { $0.append("\(error)") }
                    }
                }.start()
            }
            connected.wait()
            connected.wait()
            start.signal()
            start.signal()
            // A deadline only so that a regression fails instead of hanging.
            #expect(finished.wait(timeout: .now() + 120) == .success)
            #expect(failures.withLock { $0 } == [])
            #expect(try setup.queryFirst("SELECT n FROM counter") { $0.int(0) } == 400)
            print("noLostUpdate: \(retries.withLock { $0 }) serialisation retries")
        }
    }

    @Test("a read transaction sees one snapshot while another connection commits")
    func readSnapshot() throws {
        try TestCluster.withSchema { url in
            let a = try PostgresConnection(url: url)
            let b = try PostgresConnection(url: url)
            try a.execute("CREATE TABLE r (x BIGINT); INSERT INTO r VALUES (1)")
            let (before, after) = try a.readTransaction {
                let before = try a.queryFirst("SELECT count(*) FROM r") { $0.int(0) }
                try b.run("INSERT INTO r VALUES (2)")
                return (before, try a.queryFirst("SELECT count(*) FROM r") { $0.int(0) })
            }
            #expect(before == 1 && after == 1)
            #expect(!a.inTransaction)
            #expect(try a.queryFirst("SELECT count(*) FROM r") { $0.int(0) } == 2)
            let error = try #require(throws: PostgresError.self) {
                try a.readTransaction { try a.run("INSERT INTO r VALUES (3)") }
            }
            #expect(error.sqlState == "25006")  // read_only_sql_transaction
        }
    }

    @Test("withoutWaitingForLocks: a row another transaction holds fails at once, transient; the setting is restored")
    func withoutWaitingForLocks() throws {
        try TestCluster.withSchema { url in
            let a = try PostgresConnection(url: url)
            let b = try PostgresConnection(url: url)
            try a.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT); INSERT INTO t VALUES (1, 0)")
            try b.execute("BEGIN; UPDATE t SET n = n + 1 WHERE id = 1")  // holds the row lock
            defer { try? b.execute("ROLLBACK") }
            let error = try #require(throws: PostgresError.self) {
                try a.withoutWaitingForLocks { try a.run("UPDATE t SET n = n + 10 WHERE id = ?", [1]) }
            }
            #expect(error.sqlState == "55P03" && error.isTransient, "\(error)")
            #expect(try a.queryFirst("SHOW lock_timeout") { $0.text(0) } == "0")
        }
    }

    @Test("a statement that failed inside a transaction fails the commit instead of a silent rollback")
    func abortedTransaction() throws {
        try TestCluster.withConnection { db in
            try db.execute("CREATE TABLE u (x BIGINT UNIQUE); INSERT INTO u VALUES (1)")
            let error = try #require(throws: PostgresError.self) {
                try db.writeTransaction {
                    try db.run("INSERT INTO u VALUES (2)")
                    _ = try? db.run("INSERT INTO u VALUES (1)")
                }
            }
            #expect(error.sqlState == "25P02")
            #expect(!db.inTransaction)
            #expect(try db.query("SELECT x FROM u ORDER BY x") { $0.int(0) } == [1])
            // Nested: the inner call joins the outer transaction.
            try db.writeTransaction {
                _ = try db.writeTransaction { try db.run("INSERT INTO u VALUES (3)") }
                #expect(db.inTransaction)
            }
            #expect(try db.query("SELECT x FROM u ORDER BY x") { $0.int(0) } == [1, 3])
        }
    }

    @Test("indexes(on:), tableExists and indexExists read the catalog of the current schema")
    func indexFacts() throws {
        try TestCluster.withConnection { db in
            try db.execute(
                """
                CREATE TABLE assets (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, user_id BIGINT, sha256 TEXT);
                CREATE UNIQUE INDEX assets_user_sha256 ON assets (user_id, sha256) WHERE sha256 IS NOT NULL;
                CREATE INDEX assets_sha256 ON assets (sha256);
                """)
            #expect(
                try db.indexes(on: "assets") == [
                    SQLIndexFacts(name: "assets_pkey", isUnique: true, isPartial: false, columns: ["id"]),
                    SQLIndexFacts(name: "assets_sha256", isUnique: false, isPartial: false, columns: ["sha256"]),
                    SQLIndexFacts(
                        name: "assets_user_sha256", isUnique: true, isPartial: true, columns: ["user_id", "sha256"]),
                ])
            #expect(try db.indexes(on: "missing") == [])
            #expect(try db.tableExists("assets"))
            #expect(try !db.tableExists("assets_sha256"))
            #expect(try !db.tableExists("pg_class"))  // in pg_catalog, not the current schema
            #expect(try db.indexExists("assets_user_sha256"))
            #expect(try !db.indexExists("assets"))
        }
    }

    @Test("dialect: now is SQLite's ISO-8601 text; identity key, bytea and string_agg work in SQL")
    func dialect() throws {
        try TestCluster.withConnection { db in
            let dialect = PostgresConnection.dialect
            let now = try #require(try db.queryFirst("SELECT \(dialect.now)") { $0.text(0) })
            #expect(now.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(now)")
            try db.execute("CREATE TABLE d (id \(dialect.autoIncrementPrimaryKey), g BIGINT, b \(dialect.blobType))")
            let ids = try (0..<3).map { g in
                try db.queryFirst(
                    "INSERT INTO d (g, b) VALUES (?, ?) RETURNING id", [g % 2, SQLValue.blob([UInt8(g)])]
                ) {
                    $0.int(0)
                }
            }
            #expect(ids == [1, 2, 3])
            #expect(
                try db.query(
                    "SELECT g, \(dialect.concatenate("id", "+")) FROM (SELECT * FROM d ORDER BY id) s GROUP BY g ORDER BY g"
                ) {
                    $0.text(1)
                } == ["1+3", "2"])
        }
    }

    @Test("forEachRow streams a large scan, and a body that throws leaves the connection usable")
    func streaming() throws {
        struct Stop: Error {}
        try TestCluster.withConnection { db in
            var sum: Int64 = 0
            try db.forEachRow("SELECT g FROM generate_series(1, ?) g", [100_000], cached: false) { sum += $0.int(0) }
            #expect(sum == 5_000_050_000)
            var seen = 0
            #expect(throws: Stop.self) {
                try db.forEachRow("SELECT g FROM generate_series(1, 10000000) g", [], cached: true) { _ in
                    seen += 1
                    if seen == 10 { throw Stop() }
                }
            }
            #expect(seen == 10)
            #expect(try db.queryFirst("SELECT 7") { $0.int(0) } == 7)
        }
    }

    @Test("a terminated backend: the next call fails transient or reconnects, the one after succeeds")
    func reconnect() throws {
        try TestCluster.withSchema { url in
            let db = try PostgresConnection(url: url)
            let killer = try PostgresConnection(url: url)
            #expect(try db.queryFirst("SELECT ? + 1", [1]) { $0.int(0) } == 2)  // a cached statement
            let oldPID = db.backendPID
            // The timeout makes pg_terminate_backend wait until the backend is gone.
            let terminated = try killer.queryFirst("SELECT pg_terminate_backend(?, 60000)", [Int64(oldPID)]) {
                $0.int(0)
            }
            #expect(terminated == 1)
            do {
                _ = try db.queryFirst("SELECT ? + 1", [1]) { $0.int(0) }
            } catch let error as PostgresError {
                #expect(error.isTransient, "\(error)")
            }
            #expect(try db.queryFirst("SELECT ? + 1", [1]) { $0.int(0) } == 2)
            #expect(db.backendPID != oldPID)
            #expect(try db.queryFirst("SELECT current_setting('TimeZone')") { $0.text(0) } == "UTC")
            // A transaction that begins on a connection whose server went away while it sat
            // idle reconnects and runs: nothing of it had run yet.
            let secondPID = db.backendPID
            _ = try killer.queryFirst("SELECT pg_terminate_backend(?, 60000)", [Int64(secondPID)]) { $0.int(0) }
            #expect(try db.writeTransaction { try db.queryFirst("SELECT 40 + 2") { $0.int(0) } } == 42)
            #expect(db.backendPID != secondPID)
        }
    }

    @Test("an unreachable server fails transient")
    func unreachable() throws {
        // A port that was free a moment ago: nothing listens on it.
        let port = try freePort()
        let error = try #require(throws: PostgresError.self) {
            _ = try PostgresConnection(
                url: "postgresql://assetdedup@127.0.0.1:\(port)/postgres", connectTimeoutSeconds: 5)
        }
        #expect(error.isTransient && error.connectionLost, "\(error)")
    }

    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else {
                    throw CocoaError(.fileWriteUnknown)
                }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

@Suite("PostgreSQL test configuration")
struct TestClusterConfigurationTests {
    @Test("ASSETDEDUP_TEST_PG_URL is set, or ASSETDEDUP_TEST_PG=skip")
    func configured() throws {
        guard !TestCluster.isSkipped else { return }
        if TestCluster.url == nil { Issue.record(TestCluster.NotConfigured()) }
    }
}
