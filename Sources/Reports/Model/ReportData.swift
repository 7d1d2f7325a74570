import AssetDedupCore
import StoreProtocols

/// Everything the pages show, read from the store in one snapshot.
///
/// Plain values only: the pages are built from this without touching the database, which is
/// what lets the golden tests render from a fixture. Its size does not grow with the store:
/// lists hold what a page shows (`listLimit` rows), whole-store figures are sums, and every
/// row of the store reaches the exports as it streams by.
struct ReportData: Sendable {
    var totals: StoreTotals
    /// Totals over all cross-user groups and the largest-saving ones the page lists.
    var duplicates: DuplicateSummary
    /// The first `listLimit` merges; `totals.mergedRows` counts them all.
    var merges: [MergeRecord]
    var userTotals: [UserTotals]
    var providerTotals: [CountAndBytes]
    var userProviders: [UserProviderCount]
    var combinations: [CountAndBytes]
    var underCovered: [UnderCoveredAsset]
    var minProviders: Int
    var migrations: [MigrationStatus]
    var indexFacts: AssetIndexFacts
    /// Resumable uploads not yet complete: how many, and the bytes their partial files hold.
    var partialUploads: (count: Int, bytes: Int64)
    /// Blobs `gc` marked as orphans and has not deleted yet.
    var orphans: OrphanSummary
    /// Per-user groups of look-alike assets (perceptual hashes) and fingerprinting progress.
    var nearDuplicates = NearDuplicateSummary(keep: 0)
    /// What `verify` last found, per location (empty on a schema without `copy_checks`).
    var integrity = IntegritySummary(locations: [], belowMinimum: 0, minCopies: 0)
    /// The first `listLimit` problem copies and pieces of content below the minimum.
    var copyProblems: [CopyCheck] = []
    var belowMinimum: [UnderReplicated] = []

    /// Reads the store; call it inside a read transaction so all pages see one snapshot. Each
    /// duplicate member is also handed to `member` as it streams by, so exports are written
    /// without holding every row.
    static func load(
        from store: any ReportSource, minProviders: Int, minCopies: Int = 0, listLimit: Int,
        member: (DuplicateMember) throws -> Void,
        nearDuplicateGroup: (NearDuplicateSummary.Group) throws -> Void = { _ in }
    ) throws -> ReportData {
        // The largest sort (every asset, by user and provider set) runs first, so the smaller
        // one behind the duplicate groups reuses the memory it freed instead of growing the heap.
        var coverage = CoverageRollup()
        try store.forEachUserProviderCombination { coverage.add($0) }
        coverage.finish()
        // The chart shows the top 10 even when the tables are shorter.
        let duplicates = try DuplicateSummary.load(from: store, keep: max(listLimit, 10), member: member)
        var data = ReportData(
            totals: try store.storeTotals(),
            duplicates: duplicates,
            merges: try store.mergeRecords(limit: listLimit),
            userTotals: coverage.userTotals,
            providerTotals: coverage.providerTotals,
            userProviders: coverage.userProviders,
            combinations: coverage.combinations,
            underCovered: try store.underCoveredAssets(minProviders: minProviders, limit: listLimit),
            minProviders: minProviders,
            migrations: try store.migrationStatus(),
            indexFacts: try store.assetIndexFacts(),
            partialUploads: try store.partialUploadTotals(),
            orphans: try store.orphanSummary(),
            nearDuplicates: try NearDuplicateSummary.load(from: store, keep: listLimit, group: nearDuplicateGroup))
        if try store.tableExists("verify_passes") {
            data.integrity = try store.integritySummary(minCopies: minCopies)
            try store.forEachCopyProblem(limit: listLimit) { data.copyProblems.append($0) }
            data.belowMinimum =
                minCopies > 0 ? try store.contentBelowMinimum(minCopies: minCopies, after: nil, limit: listLimit) : []
        }
        return data
    }
}
