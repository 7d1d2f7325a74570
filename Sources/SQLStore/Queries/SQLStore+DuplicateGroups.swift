import SQLInterface

/// Duplicate groups a page at a time, for the admin review API (`GET /admin/duplicates`).
///
/// A group is what the duplicates report lists (`duplicateMembersSQL`): a hash more than one
/// asset holds; the per-user unique index makes those holders different users. Pages follow
/// the hash (keyset pagination), so a page costs the same wherever it starts.
extension SQLStore {
    static var duplicateGroupPageSQL: String {
        """
        WITH page AS (
            SELECT sha256 FROM assets WHERE sha256 IS NOT NULL AND sha256 > ?
            GROUP BY sha256 HAVING count(*) > 1 ORDER BY sha256 LIMIT ?)
        SELECT a.sha256, a.id, a.user_id, coalesce(u.name, ''), a.size, a.original_filename, a.created_at
        FROM page JOIN assets a ON a.sha256 = page.sha256 LEFT JOIN users u ON u.id = a.user_id
        ORDER BY a.sha256, a.user_id, a.id
        """
    }
    static var latestReviewOfGroupSQL: String {
        """
        SELECT group_sha256, decision, keep_asset_id, note, reviewed_by, reviewed_at FROM duplicate_reviews
        WHERE group_sha256 = ? ORDER BY id DESC LIMIT 1
        """
    }

    /// The members of the first `limit` groups whose hash sorts after `after` (`""`: from the
    /// start), in report order (hash, user, asset), each with its group's latest review. Run it
    /// inside `readTransaction` so members and reviews describe one snapshot.
    public func duplicateGroupMembers(after: String, limit: Int) throws -> [DuplicateMember] {
        var members = try db.query(Self.duplicateGroupPageSQL, [after, limit]) { row in
            DuplicateMember(
                sha256: row.text(0), assetID: row.int(1), userID: row.int(2), userName: row.text(3),
                size: row.int(4), originalFilename: row.optionalText(5), createdAt: row.text(6), review: nil)
        }
        var reviews: [String: DuplicateReview?] = [:]
        for index in members.indices {
            let sha256 = members[index].sha256
            if reviews[sha256] == nil {
                reviews[sha256] = .some(try latestDuplicateReview(group: sha256))
            }
            members[index].review = reviews[sha256] ?? nil
        }
        return members
    }

    /// The newest decision on one group, if any.
    public func latestDuplicateReview(group: String) throws -> DuplicateReview? {
        try db.queryFirst(Self.latestReviewOfGroupSQL, [group], row: Self.review)
    }
}
