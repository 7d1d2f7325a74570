import StoreProtocols

/// Per-user, per-provider and per-combination numbers, summed from the one (user, provider
/// set) query, so the store is read once for all of the coverage page.
///
/// Rows are added as they stream from SQLite (about users × provider sets of them); only the
/// sums are kept.
struct CoverageRollup {
    var userTotals: [UserTotals] = []
    var providerTotals: [CountAndBytes] = []
    var userProviders: [UserProviderCount] = []
    var combinations: [CountAndBytes] = []
    private var providers: [String: (assets: Int64, bytes: Int64)] = [:]
    private var combos: [String: (assets: Int64, bytes: Int64)] = [:]
    private var perUser: [String: (assets: Int64, bytes: Int64)] = [:]

    /// Rows must arrive ordered by user id, then combination.
    mutating func add(_ row: UserCombination) {
        if userTotals.last?.userID != row.userID {
            flushUser()
            userTotals.append(
                UserTotals(userID: row.userID, userName: row.userName, assets: 0, bytes: 0, unhashedAssets: 0))
        }
        userTotals[userTotals.count - 1].assets += row.assets
        userTotals[userTotals.count - 1].bytes += row.bytes
        userTotals[userTotals.count - 1].unhashedAssets += row.assets - row.hashedAssets
        combos[row.combination, default: (0, 0)].assets += row.assets
        combos[row.combination, default: (0, 0)].bytes += row.bytes
        for provider in row.combination.split(separator: "+").map(String.init) {
            providers[provider, default: (0, 0)].assets += row.assets
            providers[provider, default: (0, 0)].bytes += row.bytes
            perUser[provider, default: (0, 0)].assets += row.assets
            perUser[provider, default: (0, 0)].bytes += row.bytes
        }
    }

    /// Closes the last user and sorts the per-provider and per-combination sums by key.
    mutating func finish() {
        flushUser()
        providerTotals = providers.sorted { $0.key < $1.key }.map {
            CountAndBytes(key: $0.key, assets: $0.value.assets, bytes: $0.value.bytes)
        }
        combinations = combos.sorted { $0.key < $1.key }.map {
            CountAndBytes(key: $0.key, assets: $0.value.assets, bytes: $0.value.bytes)
        }
        providers = [:]
        combos = [:]
    }

    private mutating func flushUser() {
        guard let user = userTotals.last else { return }
        for (provider, value) in perUser.sorted(by: { $0.key < $1.key }) {
            userProviders.append(
                UserProviderCount(
                    userID: user.userID, userName: user.userName, providerID: provider, assets: value.assets,
                    bytes: value.bytes))
        }
        perUser.removeAll(keepingCapacity: true)
    }
}
