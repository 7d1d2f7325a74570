/// The Swift steps of the legacy migrations: merges and refusals that plain SQL cannot explain.
enum LegacyMerge {
    /// Merges rows of one user that share a hash once hashes are normalised (`ABC…` and `abc…`):
    /// keeps the oldest row, unions the provider maps (the kept row wins on conflict), keeps the
    /// latest access time, records each merge in `asset_merges`, and deletes the newer rows.
    @Sendable static func mergeJSONCollisions(_ db: Database) throws {
        let groups = try db.query(
            """
            SELECT user_id, sha256 FROM assets WHERE sha256 IS NOT NULL
            GROUP BY user_id, sha256 HAVING count(*) > 1 ORDER BY user_id, sha256
            """, cached: false
        ) { ($0.int(0), $0.text(1)) }
        for (userID, sha256) in groups {
            let rows = try db.query(
                """
                SELECT id, providers_json, original_filename, json_valid(providers_json)
                FROM assets WHERE user_id = ? AND sha256 = ? ORDER BY created_at, id
                """, [userID, sha256], cached: false
            ) { (id: $0.int(0), json: $0.text(1), filename: $0.optionalText(2), valid: $0.int(3) == 1) }
            let invalid = rows.filter { !$0.valid }.map { String($0.id) }
            guard invalid.isEmpty else {
                throw MigrationError(
                    .refused, version: 2,
                    "cannot merge duplicate rows of user \(userID) for sha256 \(sha256): malformed providers_json in asset(s) \(invalid.joined(separator: ", ")); fix them and run again"
                )
            }
            let kept = rows[0]
            for duplicate in rows.dropFirst() {
                try db.run(
                    """
                    UPDATE assets SET providers_json = json_patch(?, providers_json),
                        last_accessed_at = max(coalesce(last_accessed_at, ''), coalesce((SELECT last_accessed_at FROM assets WHERE id = ?), ''))
                    WHERE id = ?
                    """, [duplicate.json, duplicate.id, kept.id], cached: false)
                try db.run("UPDATE assets SET last_accessed_at = NULL WHERE id = ? AND last_accessed_at = ''", [kept.id], cached: false)
                try db.run(
                    """
                    INSERT INTO asset_merges (user_id, sha256, kept_asset_id, merged_asset_id,
                        merged_original_filename, merged_providers, source)
                    VALUES (?, ?, ?, ?, ?, ?, 'migration')
                    """, [userID, sha256, kept.id, duplicate.id, duplicate.filename, duplicate.json], cached: false)
                try db.run("DELETE FROM assets WHERE id = ?", [duplicate.id], cached: false)
            }
        }
    }

    /// Refuses to restore a global UNIQUE on sha256 while two users hold the same hash.
    @Sendable static func refuseCrossUserCollisions(_ db: Database) throws {
        let collisions = try db.query(
            """
            SELECT sha256, group_concat(user_id, ', ') FROM
                (SELECT DISTINCT sha256, user_id FROM assets WHERE sha256 IS NOT NULL ORDER BY user_id)
            GROUP BY sha256 HAVING count(*) > 1 ORDER BY sha256
            """, cached: false
        ) { "\($0.text(0)) (users \($0.text(1)))" }
        guard collisions.isEmpty else {
            let shown = collisions.prefix(20).joined(separator: "; ")
            let more = collisions.count > 20 ? "; and \(collisions.count - 20) more" : ""
            throw MigrationError(
                .refused, version: 2,
                "cannot restore the global UNIQUE on sha256: \(collisions.count) hash(es) are held by more than one user: \(shown)\(more)"
            )
        }
    }

    /// Refuses to split provider maps that are not JSON objects, naming the rows to fix.
    @Sendable static func refuseMalformedProviderJSON(_ db: Database) throws {
        let bad = try db.query(
            """
            SELECT id FROM assets
            WHERE CASE WHEN json_valid(providers_json) THEN json_type(providers_json) != 'object' ELSE 1 END
            ORDER BY id
            """, cached: false
        ) { String($0.int(0)) }
        guard bad.isEmpty else {
            throw MigrationError(
                .refused, version: 3,
                "providers_json is not a JSON object in asset(s) \(bad.prefix(50).joined(separator: ", ")); fix them and run again"
            )
        }
    }
}
