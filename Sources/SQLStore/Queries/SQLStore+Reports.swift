import SQLInterface

/// The read-only queries behind the nightly reports.
///
/// Aggregation happens in SQL so that a report costs about what the `sqlite3` CLI needs for the
/// same numbers (`reportSQL` lists them for the benchmark's floor). Every query runs inside one
/// read transaction (`readTransaction`), so all pages describe one snapshot.
extension SQLStore {
    static var totalsSQL: String {
        """
        SELECT (SELECT count(*) FROM users), count(*), coalesce(sum(size), 0),
            count(*) - count(sha256), coalesce(sum(CASE WHEN sha256 IS NULL THEN size END), 0),
            (SELECT count(*) FROM provider_uploads), (SELECT count(*) FROM asset_merges)
        FROM assets
        """
    }
    static var uniqueContentSQL: String {
        """
        SELECT count(*), coalesce(sum(size), 0) FROM
            (SELECT max(size) AS size FROM assets WHERE sha256 IS NOT NULL GROUP BY sha256) AS contents
        """
    }
    static var duplicateMembersSQL: String {
        """
        SELECT a.sha256, a.id, a.user_id, coalesce(u.name, ''), a.size, a.original_filename, a.created_at
        FROM assets a LEFT JOIN users u ON u.id = a.user_id
        WHERE a.sha256 IN (SELECT sha256 FROM assets WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING count(*) > 1)
        ORDER BY a.sha256, a.user_id, a.id
        """
    }
    static var latestReviewsSQL: String {
        """
        SELECT group_sha256, decision, keep_asset_id, note, reviewed_by, reviewed_at FROM duplicate_reviews
        WHERE id IN (SELECT max(id) FROM duplicate_reviews GROUP BY group_sha256) ORDER BY group_sha256
        """
    }
    /// `limit` is `?` when run, a literal in `reportSQL`; the page counts all merges from the totals.
    static func mergeRecordsSQL(limit: String = "?") -> String {
        """
        SELECT m.user_id, u.name, m.sha256, m.kept_asset_id, m.merged_asset_id, m.merged_original_filename,
            m.source, m.merged_at
        FROM asset_merges m LEFT JOIN users u ON u.id = m.user_id ORDER BY m.user_id, m.sha256, m.id LIMIT \(limit)
        """
    }
    /// Assets per user and provider set in one pass: each asset's providers are gathered in
    /// primary-key order (assets by id, uploads by (asset_id, provider_id): both sequential),
    /// so per-user, per-provider and per-combination numbers all follow from these rows.
    static var userCombinationsSQL: String {
        """
        SELECT g.user_id, coalesce(u.name, ''), g.combo, g.assets, g.bytes, g.hashed FROM (
            SELECT user_id, combo, count(*) AS assets, coalesce(sum(size), 0) AS bytes, count(sha256) AS hashed
            FROM (SELECT a.user_id AS user_id, a.size AS size, a.sha256 AS sha256,
                      coalesce(\(Connection.dialect.concatenate("p.provider_id", "+")), '') AS combo
                  FROM assets a LEFT JOIN provider_uploads p ON p.asset_id = a.id GROUP BY a.id) AS c
            GROUP BY user_id, combo) AS g
        LEFT JOIN users u ON u.id = g.user_id ORDER BY g.user_id, g.combo
        """
    }
    /// `minProviders` and `limit` are `?` when run, literals in `reportSQL`.
    static func underCoveredSQL(minProviders: String = "?", limit: String = "?") -> String {
        """
        SELECT a.id, coalesce(u.name, ''), a.original_filename, a.size, n FROM (
            SELECT id, user_id, original_filename, size,
                (SELECT count(*) FROM provider_uploads p WHERE p.asset_id = assets.id) AS n FROM assets)
            AS a LEFT JOIN users u ON u.id = a.user_id
        WHERE n < \(minProviders) ORDER BY a.id LIMIT \(limit)
        """
    }

    /// The aggregate queries of one report, with parameters inlined, for the benchmark's floor;
    /// in the order a report runs them.
    public static func reportSQL(minProviders: Int, listLimit: Int) -> [String] {
        [
            userCombinationsSQL, latestReviewsSQL, duplicateMembersSQL, totalsSQL, uniqueContentSQL,
            mergeRecordsSQL(limit: String(listLimit)),
            underCoveredSQL(minProviders: String(minProviders), limit: String(listLimit)),
        ]
    }

    public func storeTotals() throws -> StoreTotals {
        let base = try db.queryFirst(Self.totalsSQL, cached: false) { row in
            (row.int(0), row.int(1), row.int(2), row.int(3), row.int(4), row.int(5), row.int(6))
        }!
        let unique = try db.queryFirst(Self.uniqueContentSQL, cached: false) { ($0.int(0), $0.int(1)) }!
        return StoreTotals(
            users: base.0, assets: base.1, bytes: base.2, unhashedAssets: base.3, unhashedBytes: base.4,
            uniqueContents: unique.0, uniqueBytes: unique.1, providerUploads: base.5, mergedRows: base.6)
    }

    /// Every asset whose content another user also holds, grouped by hash (rows arrive sorted by
    /// sha256, then user, then id), streamed so exports never hold them all. Each member carries
    /// its group's latest review: the reviews (one per reviewed group, made by hand, so few) are
    /// read first in hash order and walked alongside (a merge join), since one connection runs
    /// one query at a time.
    public func forEachDuplicateMember(_ body: (DuplicateMember) throws -> Void) throws {
        let reviews = try db.query(Self.latestReviewsSQL, cached: false, row: Self.review)
        var next = reviews.startIndex
        var review = reviews.first
        try db.forEachRow(Self.duplicateMembersSQL) { row in
            let sha256 = row.text(0)
            // Byte order: both queries sort by sha256, whose text is lowercase hex in every backend.
            while let current = review, current.groupSHA256.utf8.lexicographicallyPrecedes(sha256.utf8) {
                next += 1
                review = next < reviews.endIndex ? reviews[next] : nil
            }
            try body(
                DuplicateMember(
                    sha256: sha256, assetID: row.int(1), userID: row.int(2), userName: row.text(3),
                    size: row.int(4), originalFilename: row.optionalText(5), createdAt: row.text(6),
                    review: review?.groupSHA256 == sha256 ? review : nil))
        }
    }

    /// The newest decision per group, by group hash.
    public func latestDuplicateReviews() throws -> [String: DuplicateReview] {
        let reviews = try db.query(Self.latestReviewsSQL, cached: false, row: Self.review)
        return Dictionary(reviews.map { ($0.groupSHA256, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The first `limit` merges in page order (user, hash, id); `StoreTotals.mergedRows` counts them all.
    public func mergeRecords(limit: Int) throws -> [MergeRecord] {
        try db.query(Self.mergeRecordsSQL(), [limit], cached: false) { row in
            MergeRecord(
                userID: row.int(0), userName: row.optionalText(1), sha256: row.text(2), keptAssetID: row.int(3),
                mergedAssetID: row.int(4), mergedOriginalFilename: row.optionalText(5), source: row.text(6),
                mergedAt: row.text(7))
        }
    }

    /// Assets, bytes and hashed assets per (user, provider set), ordered by user, then set; the
    /// set is `a+b` in provider order, `""` for none. Streamed: a large store has about as many
    /// rows as users times provider sets, and the caller only sums them.
    public func forEachUserProviderCombination(_ body: (UserCombination) throws -> Void) throws {
        try db.forEachRow(Self.userCombinationsSQL) { row in
            try body(
                UserCombination(
                    userID: row.int(0), userName: row.text(1), combination: row.text(2), assets: row.int(3),
                    bytes: row.int(4), hashedAssets: row.int(5)))
        }
    }

    /// The first `limit` assets (by id) held by fewer than `minProviders` providers.
    public func underCoveredAssets(minProviders: Int, limit: Int) throws -> [UnderCoveredAsset] {
        try db.query(Self.underCoveredSQL(), [minProviders, limit], cached: false) { row in
            UnderCoveredAsset(
                assetID: row.int(0), userName: row.text(1), originalFilename: row.optionalText(2), size: row.int(3),
                providers: row.int(4))
        }
    }

    /// Indexes on `assets` as the backend's catalog records them.
    public func assetIndexFacts() throws -> AssetIndexFacts {
        let indexes = try db.indexes(on: "assets")
        let perUser = indexes.first { $0.name == "idx_asset_user_sha256" }
        let global = indexes.filter { $0.isUnique && $0.columns == ["sha256"] }
        return AssetIndexFacts(
            perUserIndexExists: perUser != nil, perUserIndexUnique: perUser?.isUnique ?? false,
            perUserIndexPartial: perUser?.isPartial ?? false, perUserIndexColumns: perUser?.columns ?? [],
            globalUniqueOnSHA256: global.map(\.name))
    }

    /// Records an admin decision on a duplicate group. The hash must be held by some asset (or
    /// recorded in a merge); a kept asset must hold that hash.
    @discardableResult
    public func recordDuplicateReview(
        group: String, decision: String, keepAssetID: Int64?, note: String?, reviewedBy: String
    ) throws -> DuplicateReview {
        try db.writeTransaction {
            let holders = try db.queryFirst(
                "SELECT (SELECT count(*) FROM assets WHERE sha256 = ?) + (SELECT count(*) FROM asset_merges WHERE sha256 = ?)",
                [group, group], cached: false
            ) { $0.int(0) } ?? 0
            guard holders > 0 else { throw StoreError.unknownGroup(group) }
            if let keepAssetID {
                let held = try db.queryFirst("SELECT sha256 FROM assets WHERE id = ?", [keepAssetID], cached: false) {
                    $0.optionalText(0)
                }
                guard let held else { throw StoreError.unknownAsset(keepAssetID) }
                guard held == group else { throw StoreError.assetNotInGroup(asset: keepAssetID, group: group) }
            }
            return try db.queryFirst(
                """
                INSERT INTO duplicate_reviews (group_sha256, decision, keep_asset_id, note, reviewed_by)
                VALUES (?, ?, ?, ?, ?)
                RETURNING group_sha256, decision, keep_asset_id, note, reviewed_by, reviewed_at
                """, [group, decision, keepAssetID, note, reviewedBy], cached: false, row: Self.review)!
        }
    }

    /// A `duplicate_reviews` row, columns in the order the queries above select them.
    static func review(_ row: Row) -> DuplicateReview {
        DuplicateReview(
            groupSHA256: row.text(0), decision: row.text(1), keepAssetID: row.optionalInt(2),
            note: row.optionalText(3), reviewedBy: row.text(4), reviewedAt: row.text(5))
    }
}
