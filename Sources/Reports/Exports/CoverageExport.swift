/// `coverage-users.csv`: every user's assets per provider (the page shows the largest users).
enum CoverageExport {
    /// Writes one row per user as it goes, like the duplicate exports.
    static func write(_ data: ReportData, to file: BufferedFile) throws {
        let providers = data.providerTotals.map(\.key)
        var perUser: [Int64: [String: Int64]] = [:]
        for row in data.userProviders { perUser[row.userID, default: [:]][row.providerID] = row.assets }
        try file.write(CSV.row(["user_id", "user", "assets", "bytes", "unhashed_assets"] + providers))
        for user in data.userTotals {
            try file.write(
                CSV.row(
                    [
                        String(user.userID), CSV.text(user.userName), String(user.assets), String(user.bytes),
                        String(user.unhashedAssets),
                    ]
                        + providers.map { String(perUser[user.userID]?[$0] ?? 0) }))
        }
    }
}
