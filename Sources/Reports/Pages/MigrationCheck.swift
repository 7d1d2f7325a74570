import StoreProtocols

/// One pass/fail line of the migrations page; any failure makes `assetdedup report` exit 1 so
/// that cron mails it.
struct MigrationCheck: Sendable {
    var name: String
    var ok: Bool
    var detail: String
    /// `ok` or `FAILED`, stored because templates see stored properties only.
    var result: String

    init(name: String, ok: Bool, detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
        self.result = ok ? "ok" : "FAILED"
    }

    /// The checks the design asks for: the schema is complete and unedited, and per-user
    /// uniqueness is enforced by the right index with no global unique left.
    static func evaluate(migrations: [MigrationStatus], facts: AssetIndexFacts) -> [MigrationCheck] {
        func list(_ lines: [MigrationStatus]) -> String {
            lines.map { "\($0.version) \($0.name)" }.joined(separator: ", ")
        }
        let pending = migrations.filter { $0.state == .pending }
        let drifted = migrations.filter { if case .drifted = $0.state { true } else { false } }
        let unknown = migrations.filter { if case .unknown = $0.state { true } else { false } }
        let columns = facts.perUserIndexColumns.joined(separator: ", ")
        return [
            MigrationCheck(
                name: "No pending migrations", ok: pending.isEmpty,
                detail: pending.isEmpty ? "all \(migrations.count) applied" : "pending: \(list(pending))"),
            MigrationCheck(
                name: "No drifted migrations", ok: drifted.isEmpty,
                detail: drifted.isEmpty
                    ? "checksums match the code" : "edited after being applied: \(list(drifted))"),
            MigrationCheck(
                name: "No unknown migrations", ok: unknown.isEmpty,
                detail: unknown.isEmpty ? "none" : "recorded but not in this binary: \(list(unknown))"),
            MigrationCheck(
                name: "idx_asset_user_sha256 exists", ok: facts.perUserIndexExists,
                detail: facts.perUserIndexExists ? "present" : "missing: per-user dedup is not enforced"),
            MigrationCheck(
                name: "idx_asset_user_sha256 is unique", ok: facts.perUserIndexUnique,
                detail: facts.perUserIndexUnique ? "unique" : "not unique"),
            MigrationCheck(
                name: "idx_asset_user_sha256 is partial", ok: facts.perUserIndexPartial,
                detail: facts.perUserIndexPartial ? "WHERE sha256 IS NOT NULL" : "not partial"),
            MigrationCheck(
                name: "idx_asset_user_sha256 is on (user_id, sha256)",
                ok: facts.perUserIndexColumns == ["user_id", "sha256"],
                detail: columns.isEmpty ? "no columns" : "(\(columns))"),
            MigrationCheck(
                name: "No global unique on sha256", ok: facts.globalUniqueOnSHA256.isEmpty,
                detail: facts.globalUniqueOnSHA256.isEmpty
                    ? "none" : "found: \(facts.globalUniqueOnSHA256.joined(separator: ", "))"),
        ]
    }
}
