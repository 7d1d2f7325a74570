/// Rows of the coverage page, summed by `CoverageRollup`.

/// A count with its bytes, keyed by whatever the query groups on.
struct CountAndBytes: Equatable, Sendable {
    var key: String
    var assets: Int64
    var bytes: Int64
}

/// Assets of one user on one provider.
struct UserProviderCount: Equatable, Sendable {
    var userID: Int64
    var userName: String
    var providerID: String
    var assets: Int64
    var bytes: Int64
}

/// Assets and bytes of one user, with how many still wait for a hash.
struct UserTotals: Equatable, Sendable {
    var userID: Int64
    var userName: String
    var assets: Int64
    var bytes: Int64
    var unhashedAssets: Int64
}
