import AssetDedupCore
import Foundation
import SQLInterface

/// Resumable upload sessions: the row is the truth for offset and hash state; the append lock
/// in the row keeps two requests (in any process) from appending to one upload at once.
extension SQLStore {
    static var sessionColumns: String {
        """
        id, user_id, provider_id, filename, mime_type, upload_length, upload_offset, hash_state,
        claimed_sha256, sha256, completed_at, answered_at, updated_at, kind, metadata, concat
        """
    }

    static func uploadSession(_ row: Row) -> UploadSession {
        let hashState = row.blob(7)
        return UploadSession(
            id: row.text(0), userID: UserID(row.int(1)),
            providerID: try? ProviderID(parsing: row.text(2)),
            kind: UploadKind(rawValue: row.text(13)) ?? .single, metadata: row.optionalText(14),
            concat: row.optionalText(15),
            filename: row.optionalText(3), mimeType: row.optionalText(4), length: row.optionalInt(5),
            offset: row.int(6), hashState: hashState,
            claimedSHA256: row.optionalText(8).flatMap { try? SHA256Digest(parsing: $0) },
            sha256: row.optionalText(9).flatMap { try? SHA256Digest(parsing: $0) },
            completedAt: row.optionalText(10), answeredAt: row.optionalText(11), updatedAt: row.text(12))
    }

    /// Records a new upload, locked by `lockOwner` (the creating request appends its body next).
    public func createUploadSession(_ session: UploadSession, lockOwner: String) throws {
        try db.run(
            """
            INSERT INTO upload_sessions (id, user_id, provider_id, filename, mime_type, upload_length,
                upload_offset, hash_state, claimed_sha256, lock_owner, locked_at, kind, metadata, concat)
            VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, \(Self.now), ?, ?, ?)
            """,
            [
                session.id, session.userID.rawValue, session.providerID?.rawValue ?? "", session.filename,
                session.mimeType, session.length, SQLValue.blob(session.hashState), session.claimedSHA256?.hex,
                lockOwner, session.kind.rawValue, session.metadata, session.concat,
            ])
    }

    /// The user's upload `id`, or nil (also for another user's upload).
    public func uploadSession(id: String, user: UserID) throws -> UploadSession? {
        try db.queryFirst(
            "SELECT \(Self.sessionColumns) FROM upload_sessions WHERE id = ? AND user_id = ?", [id, user.rawValue],
            row: Self.uploadSession)
    }

    /// Takes the append lock of the user's upload `id` for `owner`.
    ///
    /// One serialised write transaction, so two requests cannot both see it free. `isOwnerAlive`
    /// says whether the holder's process still runs: true keeps the lock however old (a slow
    /// client's append may take hours, and two writers would corrupt the file), false frees it at
    /// once (a killed process), nil (another host: cannot tell) frees it after `staleAfter` s.
    public func lockUploadSession(
        id: String, user: UserID, owner: String, staleAfter: Double, isOwnerAlive: (String) -> Bool?
    ) throws -> UploadLockOutcome {
        try db.writeTransaction {
            let row = try db.queryFirst(
                """
                SELECT \(Self.sessionColumns), lock_owner, locked_at,
                    locked_at < ?3
                FROM upload_sessions WHERE id = ?1 AND user_id = ?2
                """, [id, user.rawValue, Self.timestamp(secondsAgo: staleAfter)]
            ) {
                (
                    session: Self.uploadSession($0), owner: $0.optionalText(16), since: $0.optionalText(17),
                    old: $0.int(18) != 0
                )
            }
            guard let row else { return .notFound }
            if let holder = row.owner, isOwnerAlive(holder) ?? !row.old {
                return .held(owner: holder, since: row.since ?? "")
            }
            try db.run(
                "UPDATE upload_sessions SET lock_owner = ?, locked_at = \(Self.now) WHERE id = ?", [owner, id])
            return .locked(row.session)
        }
    }

    /// Records a durable append (the bytes are already fdatasync'ed) and releases the lock, in
    /// one transaction: offset and hash state always move together. False when `owner` no
    /// longer holds the lock (it was taken over): nothing is recorded then.
    public func recordAppend(id: String, owner: String, offset: Int64, hashState: [UInt8], length: Int64?) throws
        -> Bool
    {
        try db.run(
            """
            UPDATE upload_sessions SET upload_offset = ?, hash_state = ?, upload_length = ?,
                updated_at = \(Self.now), lock_owner = NULL, locked_at = NULL
            WHERE id = ? AND lock_owner = ?
            """, [offset, SQLValue.blob(hashState), length, id, owner]) == 1
    }

    /// Records the upload as complete with its digest and releases the lock; false (nothing
    /// recorded) when `owner` no longer holds the lock.
    public func recordCompletion(id: String, owner: String, offset: Int64, hashState: [UInt8], sha256: SHA256Digest)
        throws -> Bool
    {
        try db.run(
            """
            UPDATE upload_sessions SET upload_offset = ?1, hash_state = ?2, upload_length = ?1, sha256 = ?3,
                completed_at = \(Self.now), updated_at = \(Self.now), lock_owner = NULL, locked_at = NULL
            WHERE id = ?4 AND lock_owner = ?5
            """, [offset, SQLValue.blob(hashState), sha256.hex, id, owner]) == 1
    }

    /// Notes that the completion was answered (asset row made, provider done or failed for good).
    public func markUploadAnswered(id: String) throws {
        try db.run("UPDATE upload_sessions SET answered_at = \(Self.now) WHERE id = ?", [id])
    }

    /// Releases the lock without recording anything (a refused or failed append).
    public func unlockUploadSession(id: String, owner: String) throws {
        try db.run(
            "UPDATE upload_sessions SET lock_owner = NULL, locked_at = NULL WHERE id = ? AND lock_owner = ?",
            [id, owner])
    }

    /// Forgets the upload (its partial file is the caller's to remove).
    public func deleteUploadSession(id: String) throws {
        try db.run("DELETE FROM upload_sessions WHERE id = ?", [id])
    }

    /// Uploads untouched for `olderThanSeconds` (by `updated_at`) and not locked more recently.
    public func expiredUploadSessions(olderThanSeconds: Double) throws -> [String] {
        try db.query(
            """
            SELECT id FROM upload_sessions
            WHERE updated_at < ?1 AND (locked_at IS NULL OR locked_at < ?1)
            """, [Self.timestamp(secondsAgo: olderThanSeconds)]
        ) { $0.text(0) }
    }

    /// Deletes upload `id` if it is still expired (a request may have touched it since it was
    /// listed); true when it was deleted.
    public func deleteExpiredUploadSession(id: String, olderThanSeconds: Double) throws -> Bool {
        try db.run(
            """
            DELETE FROM upload_sessions WHERE id = ?2
                AND updated_at < ?1 AND (locked_at IS NULL OR locked_at < ?1)
            """, [Self.timestamp(secondsAgo: olderThanSeconds), id]) > 0
    }

    /// The time `seconds` ago as stored text: cut-offs are computed here, not in SQL, so every
    /// backend compares the same strings.
    static func timestamp(secondsAgo seconds: Double) -> String {
        Timestamp.string(Date().addingTimeInterval(-max(seconds, 0)))
    }

    /// Whether any session row has this id (the sweep keeps files that have one).
    public func uploadSessionExists(id: String) throws -> Bool {
        try db.queryFirst("SELECT 1 FROM upload_sessions WHERE id = ?", [id]) { _ in true } ?? false
    }

    /// Incomplete uploads: how many and the bytes they hold so far (for the reports).
    public func partialUploadTotals() throws -> (count: Int, bytes: Int64) {
        try db.queryFirst(
            "SELECT count(*), coalesce(sum(upload_offset), 0) FROM upload_sessions WHERE completed_at IS NULL"
        ) { (count: Int($0.int(0)), bytes: $0.int(1)) } ?? (0, 0)
    }
}
