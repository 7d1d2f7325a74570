import StoreProtocols

/// The duplicates page: cross-user groups with their savings and review state, legacy
/// same-user merges, and rows still waiting for a hash.
struct DuplicatesPage: Sendable {
    struct Group: Sendable {
        var sha256: String
        var holders: String
        var users: String
        var assetIDs: String
        var size: String
        var saved: String
        var review: String
    }

    struct Merge: Sendable {
        var user: String
        var sha256: String
        var keptAssetID: String
        var mergedAssetID: String
        var mergedFilename: String
        var source: String
        var mergedAt: String
    }

    struct Waiting: Sendable {
        var user: String
        var rows: String
    }

    var format: PageFormat
    var generatedAt: String
    var groupCount: String
    var assetsInGroups: String
    var bytesSaved: String
    var reviewedGroups: String
    var unreviewedGroups: String
    var groups: [Group]
    var hasGroups: Bool
    var groupsOmitted: String
    var hasOmittedGroups: Bool
    var merges: [Merge]
    var hasMerges: Bool
    var mergeCount: String
    var mergesOmitted: String
    var hasOmittedMerges: Bool
    var waiting: [Waiting]
    var hasWaiting: Bool
    var waitingRows: String
    var chart: ChartRef

    init(data: ReportData, listLimit: Int, generatedAt: String, format: PageFormat) {
        self.format = format
        self.generatedAt = generatedAt
        let all = data.duplicates
        groupCount = Format.count(all.groupCount)
        assetsInGroups = Format.count(all.assetCount)
        bytesSaved = Format.bytes(all.bytesSaved)
        reviewedGroups = Format.count(all.reviewedGroups)
        unreviewedGroups = Format.count(all.groupCount - all.reviewedGroups)
        groups = all.top.prefix(listLimit).map { group in
            Group(
                sha256: group.sha256, holders: Format.count(group.assetIDs.count),
                users: group.userNames.joined(separator: ", "),
                assetIDs: group.assetIDs.map(String.init).joined(separator: ", "),
                size: Format.bytes(group.size), saved: Format.bytes(group.bytesSaved),
                review: group.review.map(Self.describe) ?? "not reviewed")
        }
        hasGroups = !groups.isEmpty
        hasOmittedGroups = all.groupCount > listLimit
        groupsOmitted = Format.count(max(all.groupCount - listLimit, 0))
        mergeCount = Format.count(data.totals.mergedRows)
        merges = data.merges.prefix(listLimit).map { merge in
            Merge(
                user: merge.userName ?? "user \(merge.userID)", sha256: merge.sha256,
                keptAssetID: String(merge.keptAssetID), mergedAssetID: String(merge.mergedAssetID),
                mergedFilename: merge.mergedOriginalFilename ?? "", source: merge.source,
                mergedAt: Format.storedTimestamp(merge.mergedAt))
        }
        hasMerges = !merges.isEmpty
        hasOmittedMerges = data.totals.mergedRows > listLimit
        mergesOmitted = Format.count(max(data.totals.mergedRows - Int64(listLimit), 0))
        let waitingUsers = data.userTotals.filter { $0.unhashedAssets > 0 }
            .sorted { ($0.unhashedAssets, $1.userID) > ($1.unhashedAssets, $0.userID) }
        waiting = waitingUsers.prefix(listLimit).map { Waiting(user: $0.userName, rows: Format.count($0.unhashedAssets)) }
        hasWaiting = !waiting.isEmpty
        waitingRows = Format.count(data.totals.unhashedAssets)
        let top = all.top.prefix(10).map {
            BarChart.Bar(label: String($0.sha256.prefix(12)) + "…", value: $0.bytesSaved, valueLabel: Format.bytes($0.bytesSaved))
        }
        chart = ChartRef(
            title: "Largest savings from shared blobs", file: "charts/duplicates-top.svg",
            svg: BarChart(title: "Largest savings from shared blobs", bars: top, color: "#8a5a2b").svg())
    }

    /// `keep asset 12 (alice, 2026-11-19 10:00): note`.
    static func describe(_ review: DuplicateReview) -> String {
        describe(
            decision: review.decision, keep: review.keepAssetID.map(String.init), by: review.reviewedBy,
            at: review.reviewedAt, note: review.note)
    }

    /// The review text both duplicates pages show, from a decision's parts.
    static func describe(decision: String, keep: String?, by: String, at: String, note: String?) -> String {
        var text = decision == "keep" ? "keep asset \(keep ?? "?")" : decision
        text += " (\(by), \(Format.storedTimestamp(at)))"
        if let note, !note.isEmpty { text += ": \(note)" }
        return text
    }
}
