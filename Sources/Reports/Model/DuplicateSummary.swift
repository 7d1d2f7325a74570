import StoreProtocols

/// Cross-user duplicate groups as the duplicates page needs them: totals over every group, and
/// only the groups the page lists.
///
/// A large store has hundreds of thousands of groups; keeping them all to sort them cost more
/// memory than everything else in a report. Groups stream by in hash order, so the totals are
/// summed as they pass and a bounded, sorted list keeps the largest savings.
struct DuplicateSummary: Sendable {
    var groupCount = 0
    var assetCount = 0
    var bytesSaved: Int64 = 0
    var reviewedGroups = 0
    /// The `keep` groups with the largest saving, in page order (`ranksBefore`).
    private(set) var top: [DuplicateGroup] = []
    let keep: Int

    init(keep: Int) { self.keep = max(keep, 0) }

    /// Page order: largest saving first, then by hash, so the listing is deterministic.
    static func ranksBefore(_ a: DuplicateGroup, _ b: DuplicateGroup) -> Bool {
        a.bytesSaved != b.bytesSaved ? a.bytesSaved > b.bytesSaved : a.sha256 < b.sha256
    }

    mutating func add(_ group: DuplicateGroup) {
        groupCount += 1
        assetCount += group.assetIDs.count
        bytesSaved += group.bytesSaved
        if group.review != nil { reviewedGroups += 1 }
        guard keep > 0 else { return }
        // Most groups lose to the smallest kept one: check it before searching.
        if top.count == keep, !Self.ranksBefore(group, top[keep - 1]) { return }
        let slot = top.firstIndex { Self.ranksBefore(group, $0) } ?? top.count
        top.insert(group, at: slot)
        if top.count > keep { top.removeLast() }
    }
}

extension DuplicateSummary {
    /// Reads every cross-user group from the store, one group in memory at a time; each member
    /// is also handed to `member` (the exports) as it streams by.
    static func load(from store: any ReportSource, keep: Int, member: (DuplicateMember) throws -> Void) throws
        -> DuplicateSummary
    {
        var summary = DuplicateSummary(keep: keep)
        var group: DuplicateGroup?
        try store.forEachDuplicateMember { row in
            try member(row)
            if group?.sha256 == row.sha256 {
                group!.userNames.append(row.userName)
                group!.assetIDs.append(row.assetID)
                group!.size = max(group!.size, row.size)
            } else {
                if let done = group { summary.add(done) }
                group = DuplicateGroup(
                    sha256: row.sha256, size: row.size, userNames: [row.userName], assetIDs: [row.assetID],
                    review: row.review)
            }
        }
        if let done = group { summary.add(done) }
        return summary
    }
}
