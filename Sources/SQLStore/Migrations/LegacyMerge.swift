import SQLInterface

/// The Swift steps of the legacy migrations: merges and refusals that plain SQL cannot explain.
///
/// Written once for every backend: the provider maps are parsed and merged in Swift
/// (`ProviderMap`) rather than with one backend's JSON functions.
public enum LegacyMerge {
    /// Merges rows of one user that share a hash once hashes are normalised (`ABC…` and `abc…`):
    /// keeps the oldest row, unions the provider maps (the kept row wins on conflict), keeps the
    /// latest access time, records each merge in `asset_merges`, and deletes the newer rows.
    @Sendable public static func mergeJSONCollisions<C: SQLConnection>(_ db: C) throws {
        let groups = try db.query(
            """
            SELECT user_id, sha256 FROM assets WHERE sha256 IS NOT NULL
            GROUP BY user_id, sha256 HAVING count(*) > 1 ORDER BY user_id, sha256
            """, cached: false
        ) { ($0.int(0), $0.text(1)) }
        for (userID, sha256) in groups {
            let rows = try db.query(
                """
                SELECT id, providers_json, original_filename, last_accessed_at
                FROM assets WHERE user_id = ? AND sha256 = ? ORDER BY created_at, id
                """, [userID, sha256], cached: false
            ) {
                (id: $0.int(0), json: $0.text(1), filename: $0.optionalText(2), lastAccessed: $0.optionalText(3))
            }
            let maps = rows.map { ProviderMap.parse($0.json) }
            let invalid = zip(rows, maps).filter { $0.1 == nil }.map { String($0.0.id) }
            guard invalid.isEmpty else {
                throw MigrationError(
                    .refused, version: 2,
                    "cannot merge duplicate rows of user \(userID) for sha256 \(sha256): malformed providers_json in asset(s) \(invalid.joined(separator: ", ")); fix them and run again"
                )
            }
            let kept = rows[0]
            var merged = maps[0]!
            var lastAccessed = kept.lastAccessed
            for (duplicate, map) in zip(rows, maps).dropFirst() {
                merged.merge(map!) { keptValue, _ in keptValue }
                if let time = duplicate.lastAccessed, time > (lastAccessed ?? "") { lastAccessed = time }
                try db.run(
                    """
                    INSERT INTO asset_merges (user_id, sha256, kept_asset_id, merged_asset_id,
                        merged_original_filename, merged_providers, source)
                    VALUES (?, ?, ?, ?, ?, ?, 'migration')
                    """, [userID, sha256, kept.id, duplicate.id, duplicate.filename, duplicate.json], cached: false)
                try db.run("DELETE FROM assets WHERE id = ?", [duplicate.id], cached: false)
            }
            try db.run(
                "UPDATE assets SET providers_json = ?, last_accessed_at = ? WHERE id = ?",
                [try ProviderMap.json(merged.map { ($0.key, $0.value) }), lastAccessed, kept.id], cached: false)
        }
    }

    /// Refuses to restore a global UNIQUE on sha256 while two users hold the same hash.
    @Sendable public static func refuseCrossUserCollisions<C: SQLConnection>(_ db: C) throws {
        var usersByHash: [(sha256: String, users: [String])] = []
        try db.forEachRow(
            """
            SELECT DISTINCT sha256, user_id FROM assets WHERE sha256 IN
                (SELECT sha256 FROM assets WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING count(DISTINCT user_id) > 1)
            ORDER BY sha256, user_id
            """
        ) { row in
            let sha256 = row.text(0)
            if usersByHash.last?.sha256 != sha256 { usersByHash.append((sha256, [])) }
            usersByHash[usersByHash.count - 1].users.append(String(row.int(1)))
        }
        guard usersByHash.isEmpty else {
            let collisions = usersByHash.map { "\($0.sha256) (users \($0.users.joined(separator: ", ")))" }
            let shown = collisions.prefix(20).joined(separator: "; ")
            let more = collisions.count > 20 ? "; and \(collisions.count - 20) more" : ""
            throw MigrationError(
                .refused, version: 2,
                "cannot restore the global UNIQUE on sha256: \(collisions.count) hash(es) are held by more than one user: \(shown)\(more)"
            )
        }
    }

    /// Refuses to split provider maps that are not JSON objects, naming the rows to fix.
    @Sendable public static func refuseMalformedProviderJSON<C: SQLConnection>(_ db: C) throws {
        var bad: [String] = []
        try db.forEachRow("SELECT id, providers_json FROM assets ORDER BY id") { row in
            if ProviderMap.parse(row.text(1)) == nil { bad.append(String(row.int(0))) }
        }
        guard bad.isEmpty else {
            throw MigrationError(
                .refused, version: 3,
                "providers_json is not a JSON object in asset(s) \(bad.prefix(50).joined(separator: ", ")); fix them and run again"
            )
        }
    }
}
