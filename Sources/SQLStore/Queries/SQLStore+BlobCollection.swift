import AssetDedupCore
import Foundation
import StoreProtocols
import SQLInterface

/// Blob garbage collection's marks (migration 11) and the uploads' claim on them.
///
/// gc marks a blob no asset references, and only takes it ('deleting') once the mark is a grace
/// period old and still no asset references it; an upload about to trust a blob first deletes
/// its 'marked' row. Both sides write the same row, so the database orders them: a claim before
/// the take leaves gc nothing to take, a take before the claim answers `.beingCollected`.
extension SQLStore: BlobCollection {
    /// An asset of any user, or a resumable upload's row (completed, its answer maybe still to
    /// be retried), names the blob. Both lookups are indexed.
    static var referenced: String {
        """
        (EXISTS (SELECT 1 FROM assets WHERE sha256 = ?1)
            OR EXISTS (SELECT 1 FROM upload_sessions WHERE sha256 = ?1))
        """
    }

    public func isBlobReferenced(sha256: SHA256Digest) throws -> Bool {
        try db.queryFirst("SELECT 1 WHERE \(Self.referenced)", [sha256.hex]) { _ in true } ?? false
    }

    @discardableResult
    public func markOrphan(sha256: SHA256Digest, size: Int64, now: Date) throws -> Bool {
        try db.run(
            """
            INSERT INTO blob_gc_marks (sha256, size, marked_at, state, state_at)
            SELECT ?1, CAST(?2 AS BIGINT), ?3, 'marked', ?3
            WHERE NOT \(Self.referenced)
            ON CONFLICT (sha256) DO NOTHING
            """, [sha256.hex, size, Timestamp.string(now)]) > 0
    }

    public func collectableMarks(markedBefore: Date) throws -> [BlobMark] {
        try db.query(
            """
            SELECT sha256, size, marked_at, state, state_at FROM blob_gc_marks
            WHERE state = 'deleting' OR marked_at <= ?
            ORDER BY sha256
            """, [Timestamp.string(markedBefore)], cached: false
        ) { row in
            BlobMark(
                sha256: try SHA256Digest(parsing: row.text(0)), size: row.int(1), markedAt: row.text(2),
                state: BlobMark.State(rawValue: row.text(3)) ?? .marked, stateAt: row.text(4))
        }
    }

    public func takeForDeletion(sha256: SHA256Digest, markedBefore: Date, now: Date) throws -> Bool {
        try db.writeTransaction {
            // A 'deleting' row is re-stamped: an upload's claim then sees a fresh one and waits,
            // instead of dropping it as a dead gc's while this run deletes the blob.
            let taken = try db.run(
                """
                UPDATE blob_gc_marks SET state = 'deleting', state_at = ?3
                WHERE sha256 = ?1 AND (state = 'deleting' OR marked_at <= ?2)
                    AND NOT \(Self.referenced)
                """, [sha256.hex, Timestamp.string(markedBefore), Timestamp.string(now)])
            if taken == 0 {
                // Referenced again (an asset or upload row arrived while the mark aged): not an orphan.
                try db.run("DELETE FROM blob_gc_marks WHERE sha256 = ?1 AND \(Self.referenced)", [sha256.hex])
            }
            return taken > 0
        }
    }

    public func finishDeletion(sha256: SHA256Digest) throws {
        try db.run("DELETE FROM blob_gc_marks WHERE sha256 = ? AND state = 'deleting'", [sha256.hex])
    }

    public func claimBlobForUpload(sha256: SHA256Digest, now: Date, staleDeletingSeconds: Double) throws
        -> BlobClaim
    {
        // Almost every upload finds no mark: one indexed read, no write lock.
        let found = try db.queryFirst("SELECT state FROM blob_gc_marks WHERE sha256 = ?", [sha256.hex]) {
            $0.text(0)
        }
        guard found != nil else { return .free }
        let stale = Timestamp.string(now.addingTimeInterval(-max(staleDeletingSeconds, 0)))
        let dropped = try db.run(
            "DELETE FROM blob_gc_marks WHERE sha256 = ?1 AND (state = 'marked' OR state_at <= ?2)",
            [sha256.hex, stale])
        if dropped > 0 { return .free }
        // Not dropped: gc holds it 'deleting', or the row went meanwhile (the blob deleted and
        // the mark finished, or another upload's claim): then nothing can take it any more.
        let deleting = try db.queryFirst(
            "SELECT 1 FROM blob_gc_marks WHERE sha256 = ? AND state = 'deleting'", [sha256.hex]
        ) { _ in true }
        return deleting == true ? .beingCollected : .free
    }

    public func orphanSummary() throws -> OrphanSummary {
        guard try db.tableExists("blob_gc_marks") else { return OrphanSummary(count: 0, bytes: 0, lastMarkedAt: nil) }
        return try db.queryFirst(
            "SELECT count(*), coalesce(sum(size), 0), max(marked_at) FROM blob_gc_marks", cached: false
        ) { OrphanSummary(count: Int($0.int(0)), bytes: $0.int(1), lastMarkedAt: $0.optionalText(2)) }
            ?? OrphanSummary(count: 0, bytes: 0, lastMarkedAt: nil)
    }
}
