import SQLInterface

/// Applies and reverts a backend's migration plan on one database, one transaction per migration.
public struct Migrator<Connection: SQLConnection> {
    public typealias State = MigrationState
    public typealias Status = MigrationStatus

    public let db: Connection
    public let plan: [Migration<Connection>]

    public init(db: Connection, plan: [Migration<Connection>]) throws {
        self.db = db
        self.plan = plan
    }

    /// Creates the history table on the first write; reads (status inside a report's
    /// read-only snapshot) never write.
    private func createHistoryTable() throws {
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at TEXT NOT NULL DEFAULT (\(Connection.dialect.now))
            )
            """)
    }

    private struct Record { let version: Int; let name: String; let checksum: String; let appliedAt: String }

    private func records() throws -> [Int: Record] {
        guard try db.tableExists("schema_migrations") else { return [:] }
        let rows = try db.query(
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version", cached: false
        ) { Record(version: Int($0.int(0)), name: $0.text(1), checksum: $0.text(2), appliedAt: $0.text(3)) }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.version, $0) })
    }

    /// The highest applied version, 0 for an empty database.
    public func currentVersion() throws -> Int { try db.schemaVersion() }

    /// Every known migration's state, plus recorded versions this binary does not know.
    public func status() throws -> [Status] {
        let recorded = try records()
        var lines = plan.map { migration -> Status in
            guard let record = recorded[migration.version] else {
                return Status(version: migration.version, name: migration.name, state: .pending)
            }
            let state: State =
                record.checksum == migration.checksum
                ? .applied(at: record.appliedAt) : .drifted(at: record.appliedAt, recorded: record.checksum)
            return Status(version: migration.version, name: migration.name, state: state)
        }
        let known = Set(plan.map(\.version))
        for record in recorded.values where !known.contains(record.version) {
            lines.append(Status(version: record.version, name: record.name, state: .unknown(at: record.appliedAt)))
        }
        return lines.sorted { $0.version < $1.version }
    }

    /// Applies pending migrations up to `target` (default: all). Returns the versions applied.
    @discardableResult
    public func up(to target: Int? = nil, log: (String) -> Void = { _ in }) throws -> [Int] {
        let target = target ?? plan.last?.version ?? 0
        guard plan.contains(where: { $0.version == target }) || target == 0 else {
            throw MigrationError(.badTarget, "unknown migration version \(target) (known: \(knownRange))")
        }
        try createHistoryTable()
        let recorded = try records()
        let unknown = recorded.keys.filter { v in !plan.contains { $0.version == v } }.sorted()
        guard unknown.isEmpty else {
            throw MigrationError(
                .unknownVersions,
                "database has migration(s) \(unknown.map(String.init).joined(separator: ", ")) that this binary does not know; use a newer assetdedup"
            )
        }
        var applied: [Int] = []
        for migration in plan where migration.version <= target && recorded[migration.version] == nil {
            try inMigrationTransaction(version: migration.version) {
                if try migration.isAlreadyApplied(db) {
                    log("migration \(migration.version) \(migration.name): already in place, recording it")
                } else {
                    try run(migration.up, of: migration)
                    log("migration \(migration.version) \(migration.name): applied")
                }
                try db.run(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                    [migration.version, migration.name, migration.checksum], cached: false)
            }
            applied.append(migration.version)
        }
        return applied
    }

    /// Reverts applied migrations above `target`, newest first, all or nothing: the whole
    /// range runs in one transaction, so a refusal half-way (say, at version 2) leaves the
    /// database exactly as it was. Returns the versions reverted.
    @discardableResult
    public func down(to target: Int, log: (String) -> Void = { _ in }) throws -> [Int] {
        let current = try currentVersion()
        guard target >= 0, target == 0 || plan.contains(where: { $0.version == target }) else {
            throw MigrationError(.badTarget, "unknown migration version \(target) (known: \(knownRange), or 0)")
        }
        guard target <= current else {
            throw MigrationError(.badTarget, "cannot go down to \(target): the database is at version \(current)")
        }
        let recorded = try records()
        let toRevert = plan.reversed().filter { $0.version > target && recorded[$0.version] != nil }
        var messages: [String] = []
        try inMigrationTransaction(version: toRevert.first?.version) {
            for migration in toRevert {
                try run(migration.down, of: migration)
                try db.run("DELETE FROM schema_migrations WHERE version = ?", [migration.version], cached: false)
                messages.append("migration \(migration.version) \(migration.name): reverted")
            }
        }
        messages.forEach(log)
        return toRevert.map(\.version)
    }

    private var knownRange: String {
        "\(plan.first?.version ?? 0)-\(plan.last?.version ?? 0)"
    }

    private func run(_ steps: [Migration<Connection>.Step], of migration: Migration<Connection>) throws {
        for step in steps {
            switch step {
            case .sql(let sql): try db.execute(sql)
            case .swift(_, let body): try body(db)
            }
        }
    }

    private func inMigrationTransaction(version: Int?, _ body: () throws -> Void) throws {
        try db.migrationTransaction {
            try body()
            let dangling = try db.danglingReferences()
            guard dangling.isEmpty else {
                throw MigrationError(
                    .foreignKeyViolation, version: version,
                    "leaves dangling references: \(dangling.prefix(10).joined(separator: ", "))")
            }
        }
    }
}
