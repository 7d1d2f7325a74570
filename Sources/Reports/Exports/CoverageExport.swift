/// `coverage-users.csv`: every user's assets per provider (the page shows the largest users).
enum CoverageExport {
    static func csv(_ data: ReportData) -> String {
        let providers = data.providerTotals.map(\.key)
        var perUser: [Int64: [String: Int64]] = [:]
        for row in data.userProviders { perUser[row.userID, default: [:]][row.providerID] = row.assets }
        var out = CSV.row(["user_id", "user", "assets", "bytes", "unhashed_assets"] + providers)
        for user in data.userTotals {
            out += CSV.row(
                [String(user.userID), CSV.text(user.userName), String(user.assets), String(user.bytes),
                 String(user.unhashedAssets)]
                    + providers.map { String(perUser[user.userID]?[$0] ?? 0) })
        }
        return out
    }
}
