import AssetStore

/// Per-user, per-provider and per-combination numbers, summed from the one (user, provider
/// set) query, so the store is read once for all of the coverage page.
struct CoverageRollup {
    var userTotals: [UserTotals] = []
    var providerTotals: [CountAndBytes] = []
    var userProviders: [UserProviderCount] = []
    var combinations: [CountAndBytes] = []

    /// `rows` arrive ordered by user id, then combination.
    init(_ rows: [UserCombination]) {
        var providers: [String: (assets: Int64, bytes: Int64)] = [:]
        var combos: [String: (assets: Int64, bytes: Int64)] = [:]
        var perUser: [String: (assets: Int64, bytes: Int64)] = [:]
        func flushUser() {
            guard let user = userTotals.last else { return }
            for (provider, value) in perUser.sorted(by: { $0.key < $1.key }) {
                userProviders.append(
                    UserProviderCount(
                        userID: user.userID, userName: user.userName, providerID: provider, assets: value.assets,
                        bytes: value.bytes))
            }
            perUser.removeAll()
        }
        for row in rows {
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
        flushUser()
        providerTotals = providers.sorted { $0.key < $1.key }.map {
            CountAndBytes(key: $0.key, assets: $0.value.assets, bytes: $0.value.bytes)
        }
        combinations = combos.sorted { $0.key < $1.key }.map {
            CountAndBytes(key: $0.key, assets: $0.value.assets, bytes: $0.value.bytes)
        }
    }
}
