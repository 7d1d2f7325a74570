import AssetDedupCore
import Foundation
import SQLInterface

/// `assetdedup verify`'s reads and records (issue 24).
extension SQLStore: CopyChecks {
    public func contentToVerify(after: String?, limit: Int, checkedSince: String?) throws -> [StoredContent] {
        var found: [(sha256: String, size: Int64)] = []
        try db.forEachRow(
            """
            SELECT a.sha256, max(a.size) FROM assets a
            WHERE a.sha256 IS NOT NULL AND a.sha256 > ?1
              AND (CAST(?2 AS TEXT) IS NULL OR NOT EXISTS (
                SELECT 1 FROM copy_checks c WHERE c.sha256 = a.sha256 AND c.location = 'blob' AND c.checked_at > ?2))
            GROUP BY a.sha256 ORDER BY a.sha256 LIMIT ?3
            """, [after ?? "", checkedSince, limit], cached: false
        ) { row in found.append((row.text(0), row.int(1))) }
        return try found.compactMap { item in
            guard let digest = try? SHA256Digest(parsing: item.sha256) else { return nil }
            return StoredContent(sha256: digest, size: item.size, copies: try providerCopies(item.sha256))
        }
    }

    /// Provider id -> the provider's id for the copy, over every asset holding the content.
    private func providerCopies(_ sha256: String) throws -> [ProviderID: String] {
        var copies: [ProviderID: String] = [:]
        try db.forEachRow(
            """
            SELECT p.provider_id, min(p.provider_asset_id) FROM provider_uploads p
            JOIN assets a ON a.id = p.asset_id WHERE a.sha256 = ? GROUP BY p.provider_id
            """, [sha256], cached: false
        ) { row in
            if let provider = try? ProviderID(parsing: row.text(0)) { copies[provider] = row.text(1) }
        }
        return copies
    }

    public func storedContent(_ sha256: SHA256Digest) throws -> StoredContent? {
        guard
            let size = try db.queryFirst(
                "SELECT max(size) FROM assets WHERE sha256 = ?", [sha256.hex], cached: false,
                row: { $0.optionalInt(0) }) ?? nil
        else { return nil }
        return StoredContent(sha256: sha256, size: size, copies: try providerCopies(sha256.hex))
    }

    public func recordCopyCheck(_ check: CopyCheck) throws {
        try db.run(
            """
            INSERT INTO copy_checks (sha256, location, state, detail, checked_at) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (sha256, location) DO UPDATE SET state = ?3, detail = ?4, checked_at = ?5
            """, [check.sha256.hex, check.location, check.state.rawValue, check.detail, check.checkedAt])
    }

    public func recordCopyChecks(_ checks: [CopyCheck]) throws {
        try db.writeTransaction {
            for check in checks { try recordCopyCheck(check) }
        }
    }

    public func forgetProviderCopies(sha256: SHA256Digest, provider: ProviderID) throws -> [AssetID] {
        try db.writeTransaction {
            let assets = try db.query(
                """
                SELECT p.asset_id FROM provider_uploads p JOIN assets a ON a.id = p.asset_id
                WHERE a.sha256 = ? AND p.provider_id = ? ORDER BY p.asset_id
                """, [sha256.hex, provider.rawValue], cached: false
            ) { AssetID($0.int(0)) }
            for asset in assets {
                try db.run(
                    "DELETE FROM provider_uploads WHERE asset_id = ? AND provider_id = ?",
                    [asset.rawValue, provider.rawValue])
            }
            try db.run(
                "DELETE FROM copy_checks WHERE sha256 = ? AND location = ?", [sha256.hex, provider.rawValue])
            return assets
        }
    }

    public func copyChecks() throws -> [CopyCheck] {
        try db.query(
            """
            SELECT sha256, location, state, detail, checked_at FROM copy_checks
            ORDER BY CASE state WHEN 'corrupt' THEN 0 WHEN 'missing' THEN 1 WHEN 'unreachable' THEN 2
                WHEN 'unverifiable' THEN 3 ELSE 4 END, sha256, location
            """, cached: false
        ) { row in
            CopyCheck(
                sha256: try SHA256Digest(parsing: row.text(0)), location: row.text(1),
                state: CopyCheck.State(rawValue: row.text(2)) ?? .unverifiable, detail: row.optionalText(3),
                checkedAt: row.text(4))
        }
    }

    public func verifyPass(_ name: String) throws -> VerifyPass? {
        try db.queryFirst("SELECT started_at, finished_at FROM verify_passes WHERE name = ?", [name]) { row in
            VerifyPass(startedAt: row.text(0), finishedAt: row.optionalText(1))
        }
    }

    public func startVerifyPass(_ name: String, at startedAt: String) throws {
        try db.run(
            """
            INSERT INTO verify_passes (name, started_at, finished_at) VALUES (?1, ?2, NULL)
            ON CONFLICT (name) DO UPDATE SET started_at = ?2, finished_at = NULL
            """, [name, startedAt])
    }

    public func finishVerifyPass(_ name: String, at finishedAt: String) throws {
        try db.run("UPDATE verify_passes SET finished_at = ? WHERE name = ?", [finishedAt, name])
    }

    public func recordRepair(_ repair: CopyRepair) throws {
        try db.run(
            "INSERT INTO copy_repairs (sha256, location, done, what, repaired_at) VALUES (?, ?, ?, ?, ?)",
            [repair.sha256.hex, repair.location, repair.done ? 1 : 0, repair.what, repair.repairedAt])
    }

    /// Good provider copies of the content `a.sha256`: recorded for any asset holding it, and
    /// not found missing or corrupt by their last check.
    private static var goodCopies: String {
        """
        SELECT count(DISTINCT p.provider_id) FROM provider_uploads p JOIN assets b ON b.id = p.asset_id
        WHERE b.sha256 = a.sha256 AND NOT EXISTS (
            SELECT 1 FROM copy_checks c WHERE c.sha256 = b.sha256 AND c.location = p.provider_id
              AND c.state IN ('missing', 'corrupt'))
        """
    }

    public func contentBelowMinimum(minCopies: Int, after: String?, limit: Int) throws -> [UnderReplicated] {
        let found = try db.query(
            """
            SELECT sha256, size, asset_id, mime_type FROM (
                SELECT a.sha256 AS sha256, max(a.size) AS size, min(a.id) AS asset_id,
                    min(a.mime_type) AS mime_type, (\(Self.goodCopies)) AS good
                FROM assets a WHERE a.sha256 IS NOT NULL AND a.trashed_at IS NULL AND a.sha256 > ?1
                GROUP BY a.sha256) s
            WHERE s.good < ?2 ORDER BY s.sha256 LIMIT ?3
            """, [after ?? "", minCopies, limit], cached: false
        ) { row in (row.text(0), row.int(1), AssetID(row.int(2)), row.optionalText(3)) }
        return try found.compactMap { sha256, size, asset, mimeType in
            guard let digest = try? SHA256Digest(parsing: sha256) else { return nil }
            let good = try db.query(
                """
                SELECT DISTINCT p.provider_id FROM provider_uploads p JOIN assets b ON b.id = p.asset_id
                WHERE b.sha256 = ?1 AND NOT EXISTS (
                    SELECT 1 FROM copy_checks c WHERE c.sha256 = ?1 AND c.location = p.provider_id
                      AND c.state IN ('missing', 'corrupt'))
                ORDER BY p.provider_id
                """, [sha256], cached: false
            ) { try? ProviderID(parsing: $0.text(0)) }
            return UnderReplicated(
                sha256: digest, size: size, asset: asset, mimeType: mimeType, goodCopies: good.compactMap { $0 })
        }
    }

    public func integritySummary(minCopies: Int) throws -> IntegritySummary {
        // The report calls this inside its snapshot (`readSnapshot`); alone, each read is its own.
        do {
            var locations: [String: IntegritySummary.Location] = [:]
            func edit(_ location: String, _ change: (inout IntegritySummary.Location) -> Void) {
                change(&locations[location, default: IntegritySummary.Location(location: location)])
            }
            let content =
                try db.queryFirst(
                    "SELECT count(DISTINCT sha256) FROM assets WHERE sha256 IS NOT NULL", [], cached: false
                ) { $0.int(0) } ?? 0
            edit("blob") { $0.recorded = Int(content) }
            try db.forEachRow(
                """
                SELECT p.provider_id, count(DISTINCT a.sha256) FROM provider_uploads p
                JOIN assets a ON a.id = p.asset_id WHERE a.sha256 IS NOT NULL GROUP BY p.provider_id
                """, [], cached: false
            ) { row in edit(row.text(0)) { $0.recorded = Int(row.int(1)) } }
            // Only checks of copies still recorded: a purged asset's content, or a copy forgotten
            // for delivery again, is not there to be counted.
            try db.forEachRow(
                """
                SELECT c.location, c.state, count(*), min(c.checked_at) FROM copy_checks c
                WHERE \(Self.recordedCopy)
                GROUP BY c.location, c.state
                """, [], cached: false
            ) { row in
                guard let state = CopyCheck.State(rawValue: row.text(1)) else { return }
                let oldest = row.text(3)
                edit(row.text(0)) { location in
                    location.checks[state] = Int(row.int(2))
                    location.oldestCheck = location.oldestCheck.map { min($0, oldest) } ?? oldest
                }
            }
            try db.forEachRow(
                "SELECT location, done, count(*) FROM copy_repairs GROUP BY location, done", [], cached: false
            ) { row in
                let count = Int(row.int(2))
                let done = row.int(1) != 0
                edit(row.text(0)) { location in
                    if done { location.repaired = count } else { location.notRepaired = count }
                }
            }
            let below =
                try db.queryFirst(
                    """
                    SELECT count(*) FROM (
                        SELECT a.sha256, (\(Self.goodCopies)) AS good FROM assets a
                        WHERE a.sha256 IS NOT NULL AND a.trashed_at IS NULL GROUP BY a.sha256) s
                    WHERE s.good < ?
                    """, [minCopies], cached: false
                ) { $0.int(0) } ?? 0
            let ordered = locations.values.sorted { lhs, rhs in
                lhs.location == "blob" || (rhs.location != "blob" && lhs.location < rhs.location)
            }
            return IntegritySummary(locations: ordered, belowMinimum: Int(below), minCopies: minCopies)
        }
    }

    /// A recorded copy's check: the blob of content some asset holds, or a provider copy an
    /// asset records (a purged asset's or a forgotten copy's check is history, not a problem).
    private static var recordedCopy: String {
        """
        CASE WHEN c.location = 'blob'
            THEN EXISTS (SELECT 1 FROM assets a WHERE a.sha256 = c.sha256)
            ELSE EXISTS (SELECT 1 FROM provider_uploads p JOIN assets a ON a.id = p.asset_id
                         WHERE a.sha256 = c.sha256 AND p.provider_id = c.location) END
        """
    }

    public func forEachCopyProblem(limit: Int?, _ body: (CopyCheck) throws -> Void) throws {
        try db.forEachRow(
            """
            SELECT c.sha256, c.location, c.state, c.detail, c.checked_at FROM copy_checks c
            WHERE c.state IN ('corrupt', 'missing', 'unreachable') AND \(Self.recordedCopy)
            ORDER BY CASE c.state WHEN 'corrupt' THEN 0 WHEN 'missing' THEN 1 ELSE 2 END, c.sha256, c.location
            LIMIT ?
            """, [limit ?? Int.max], cached: false
        ) { row in
            guard let digest = try? SHA256Digest(parsing: row.text(0)) else { return }
            try body(
                CopyCheck(
                    sha256: digest, location: row.text(1),
                    state: CopyCheck.State(rawValue: row.text(2)) ?? .unverifiable, detail: row.optionalText(3),
                    checkedAt: row.text(4)))
        }
    }
}
