import AssetDedupCore
import StoreProtocols
import SQLInterface

/// Near-duplicate groups' inputs and reviews: fingerprints (migration 12) read back as
/// `MediaFingerprint`s for grouping in memory (`NearDuplicateGrouping`), and admins' decisions
/// (migration 13, `near_duplicate_reviews`).
extension SQLStore {
    public func hasNearDuplicateTables() throws -> Bool { try db.tableExists("near_duplicate_reviews") }

    /// One row per hash (an image's, or each video frame's), by user, asset and frame; the rows
    /// of one asset are folded into its fingerprint as they stream by, so memory holds one asset.
    public func forEachFingerprintedAsset(user: UserID?, _ body: (FingerprintedAsset) throws -> Void) throws {
        // Trashed assets are out of every group: a kept decision's others leave it.
        let filter = user == nil ? "WHERE a.trashed_at IS NULL" : "WHERE f.user_id = ? AND a.trashed_at IS NULL"
        let sql = """
            SELECT f.asset_id, f.user_id, coalesce(u.name, ''), a.original_filename, a.sha256, a.size, f.kind,
                coalesce(f.duration_seconds, 0), h.frame, h.hash
            FROM asset_fingerprints f
            JOIN asset_fingerprint_hashes h ON h.asset_id = f.asset_id
            JOIN assets a ON a.id = f.asset_id
            LEFT JOIN users u ON u.id = f.user_id
            \(filter)
            ORDER BY f.user_id, f.asset_id, h.frame
            """
        var current: (first: FingerprintedAsset, kind: String, duration: Double, hashes: [PerceptualHash64])?
        func flush() throws {
            guard let c = current else { return }
            let fingerprint: MediaFingerprint =
                c.kind == "video" ? .video(frames: c.hashes, durationSeconds: c.duration) : .image(c.hashes[0])
            try body(
                FingerprintedAsset(
                    assetID: c.first.assetID, userID: c.first.userID, userName: c.first.userName,
                    originalFilename: c.first.originalFilename, sha256: c.first.sha256, size: c.first.size,
                    fingerprint: fingerprint))
            current = nil
        }
        try db.forEachRow(sql, user.map { [$0.rawValue] } ?? [], cached: false) { row in
            let asset = AssetID(row.int(0))
            let hash = PerceptualHash64(bits: UInt64(bitPattern: row.int(9)))
            if current?.first.assetID == asset {
                current!.hashes.append(hash)
                return
            }
            try flush()
            current = (
                FingerprintedAsset(
                    assetID: asset, userID: UserID(row.int(1)), userName: row.text(2),
                    originalFilename: row.optionalText(3), sha256: row.optionalText(4) ?? "", size: row.int(5),
                    fingerprint: .image(hash)),
                row.text(6), row.double(7), [hash]
            )
        }
        try flush()
    }

    public func fingerprintTotals() throws -> FingerprintTotals {
        try db.queryFirst(
            """
            SELECT
                (SELECT count(*) FROM asset_fingerprints WHERE kind = 'image'),
                (SELECT count(*) FROM asset_fingerprints WHERE kind = 'video'),
                (SELECT count(*) FROM asset_fingerprints WHERE kind = 'none'),
                (SELECT count(*) FROM assets a WHERE a.sha256 IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM asset_fingerprints f WHERE f.asset_id = a.id))
            """, [], cached: false
        ) { row in
            FingerprintTotals(images: row.int(0), videos: row.int(1), unavailable: row.int(2), pending: row.int(3))
        }!
    }

    public func owner(of asset: AssetID) throws -> UserID? {
        try db.queryFirst("SELECT user_id FROM assets WHERE id = ?", [asset.rawValue], cached: false) {
            UserID($0.int(0))
        }
    }

    public func latestNearDuplicateReviews() throws -> [AssetID: NearDuplicateReview] {
        let reviews = try db.query(
            """
            SELECT anchor_asset_id, member_ids, decision, keep_asset_id, note, reviewed_by, reviewed_at
            FROM near_duplicate_reviews
            WHERE id IN (SELECT max(id) FROM near_duplicate_reviews GROUP BY anchor_asset_id)
            """, cached: false, row: Self.nearDuplicateReview)
        return Dictionary(reviews.map { ($0.anchorAssetID, $0) }, uniquingKeysWith: { _, last in last })
    }

    @discardableResult
    public func recordNearDuplicateReview(
        user: UserID, members: [AssetID], decision: String, keepAssetID: AssetID?, note: String?, reviewedBy: String
    ) throws -> NearDuplicateReview {
        let members = members.sorted()
        guard let anchor = members.first else { throw StoreError.unknownAsset(0) }
        if let keepAssetID, !members.contains(keepAssetID) {
            throw StoreError.assetNotInGroup(
                asset: keepAssetID.rawValue, group: "of near-duplicates anchored at asset \(anchor)")
        }
        return try db.writeTransaction {
            return try db.queryFirst(
                """
                INSERT INTO near_duplicate_reviews (user_id, anchor_asset_id, member_ids, decision, keep_asset_id, note, reviewed_by)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                RETURNING anchor_asset_id, member_ids, decision, keep_asset_id, note, reviewed_by, reviewed_at
                """,
                [
                    user.rawValue, anchor.rawValue, members.map(\.description).joined(separator: ","), decision,
                    keepAssetID?.rawValue, note, reviewedBy,
                ], cached: false, row: Self.nearDuplicateReview)!
        }
    }

    /// A `near_duplicate_reviews` row, columns in the order the queries above select them.
    static func nearDuplicateReview(_ row: Row) -> NearDuplicateReview {
        NearDuplicateReview(
            anchorAssetID: AssetID(row.int(0)),
            memberIDs: row.text(1).split(separator: ",").compactMap { Int64($0) }.map(AssetID.init),
            decision: row.text(2), keepAssetID: row.optionalInt(3).map(AssetID.init), note: row.optionalText(4),
            reviewedBy: row.text(5), reviewedAt: row.text(6))
    }
}
