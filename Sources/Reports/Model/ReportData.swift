import AssetDedupCore
import AssetStore

/// Everything the pages show, read from the store in one snapshot.
///
/// Plain values only: the pages are built from this without touching the database, which is
/// what lets the golden tests render from a fixture.
struct ReportData: Sendable {
    var totals: StoreTotals
    /// All cross-user groups, largest saving first.
    var duplicateGroups: [DuplicateGroup]
    var reviews: [String: DuplicateReview]
    var merges: [MergeRecord]
    var userTotals: [UserTotals]
    var providerTotals: [CountAndBytes]
    var userProviders: [UserProviderCount]
    var combinations: [CountAndBytes]
    var underCovered: [UnderCoveredAsset]
    var minProviders: Int
    var migrations: [Migrator.Status]
    var indexFacts: AssetIndexFacts

    /// Reads the store; call it inside a read transaction so all pages see one snapshot. Each
    /// duplicate member is also handed to `member` as it streams by, so exports are written
    /// without holding every row.
    static func load(
        from store: SQLiteStore, reviews: [String: DuplicateReview], minProviders: Int, listLimit: Int,
        member: (DuplicateMember) throws -> Void
    ) throws -> ReportData {
        var groups: [DuplicateGroup] = []
        try store.forEachDuplicateMember { row in
            try member(row)
            if groups.last?.sha256 == row.sha256 {
                groups[groups.count - 1].userNames.append(row.userName)
                groups[groups.count - 1].assetIDs.append(row.assetID)
                groups[groups.count - 1].size = max(groups[groups.count - 1].size, row.size)
            } else {
                groups.append(
                    DuplicateGroup(sha256: row.sha256, size: row.size, userNames: [row.userName], assetIDs: [row.assetID]))
            }
        }
        groups.sort { ($0.bytesSaved, $1.sha256) > ($1.bytesSaved, $0.sha256) }
        let coverage = CoverageRollup(try store.userProviderCombinations())
        return ReportData(
            totals: try store.storeTotals(),
            duplicateGroups: groups,
            reviews: reviews,
            merges: try store.mergeRecords(),
            userTotals: coverage.userTotals,
            providerTotals: coverage.providerTotals,
            userProviders: coverage.userProviders,
            combinations: coverage.combinations,
            underCovered: try store.underCoveredAssets(minProviders: minProviders, limit: listLimit),
            minProviders: minProviders,
            migrations: try Migrator(db: store.db).status(),
            indexFacts: try store.assetIndexFacts())
    }
}
