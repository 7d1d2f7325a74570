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
                SELECT 1 FROM copy_checks c WHERE c.sha256 = a.sha256 AND c.location = 'blob' AND c.checked_at >= ?2))
            GROUP BY a.sha256 ORDER BY a.sha256 LIMIT ?3
            """, [after ?? "", checkedSince, limit], cached: false
        ) { row in found.append((row.text(0), row.int(1))) }
        return try found.compactMap { item in
            guard let digest = try? SHA256Digest(parsing: item.sha256) else { return nil }
            var copies: [ProviderID: String] = [:]
            try db.forEachRow(
                """
                SELECT p.provider_id, min(p.provider_asset_id) FROM provider_uploads p
                JOIN assets a ON a.id = p.asset_id WHERE a.sha256 = ? GROUP BY p.provider_id
                """, [item.sha256], cached: false
            ) { row in
                if let provider = try? ProviderID(parsing: row.text(0)) { copies[provider] = row.text(1) }
            }
            return StoredContent(sha256: digest, size: item.size, copies: copies)
        }
    }

    public func recordCopyCheck(_ check: CopyCheck) throws {
        try db.run(
            """
            INSERT INTO copy_checks (sha256, location, state, detail, checked_at) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (sha256, location) DO UPDATE SET state = ?3, detail = ?4, checked_at = ?5
            """, [check.sha256.hex, check.location, check.state.rawValue, check.detail, check.checkedAt])
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
}
