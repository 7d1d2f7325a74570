import StoreProtocols

/// The coverage page: where assets live across providers, per user and per provider set.
struct CoveragePage: Sendable {
    struct Provider: Sendable {
        var id: String
        var assets: String
        var bytes: String
        var share: String
    }

    struct Cell: Sendable { var value: String }

    struct UserRow: Sendable {
        var user: String
        var assets: String
        var bytes: String
        var cells: [Cell]
    }

    struct Combination: Sendable {
        var providers: String
        var count: String
        var assets: String
        var bytes: String
        var share: String
    }

    struct MatrixRow: Sendable {
        var provider: String
        var cells: [Cell]
    }

    /// A provider's copies as `verify` last found them: only verified copies count as covered.
    struct Verified: Sendable {
        var provider: String
        var recorded: String
        var covered: String
        var share: String
        var unverified: String
        var bad: String
        var unreachable: String
    }

    struct UnderCovered: Sendable {
        var assetID: String
        var user: String
        var filename: String
        var size: String
        var providers: String
    }

    var format: PageFormat
    var generatedAt: String
    var totalAssets: String
    var providers: [Provider]
    var providerColumns: [Cell]
    var users: [UserRow]
    var hasOmittedUsers: Bool
    var usersOmitted: String
    var combinations: [Combination]
    var matrix: [MatrixRow]
    var minProviders: String
    var underCount: String
    var underBytes: String
    var noneCount: String
    var noneBytes: String
    var underCovered: [UnderCovered]
    var hasUnderCovered: Bool
    var hasMoreUnderCovered: Bool
    var providerChart: ChartRef
    var spreadChart: ChartRef
    var verified: [Verified]
    var hasVerified: Bool

    init(data: ReportData, listLimit: Int, generatedAt: String, format: PageFormat) {
        self.format = format
        self.generatedAt = generatedAt
        let total = data.totals.assets
        totalAssets = Format.count(total)
        let ids = data.providerTotals.map(\.key)
        providers = data.providerTotals.map {
            Provider(
                id: $0.key, assets: Format.count($0.assets), bytes: Format.bytes($0.bytes),
                share: Format.percent($0.assets, of: total))
        }
        providerColumns = ids.map { Cell(value: $0) }

        var perUser: [Int64: [String: Int64]] = [:]
        for row in data.userProviders { perUser[row.userID, default: [:]][row.providerID] = row.assets }
        let ranked = data.userTotals.sorted { ($0.assets, $1.userID) > ($1.assets, $0.userID) }
        users = ranked.prefix(listLimit).map { user in
            UserRow(
                user: user.userName, assets: Format.count(user.assets), bytes: Format.bytes(user.bytes),
                cells: ids.map { Cell(value: Format.count(perUser[user.userID]?[$0] ?? 0)) })
        }
        hasOmittedUsers = ranked.count > listLimit
        usersOmitted = Format.count(max(ranked.count - listLimit, 0))

        // Combinations come sorted by key from SQL; show the most common first.
        let combos = data.combinations.sorted { ($0.assets, $1.key) > ($1.assets, $0.key) }
        combinations = combos.map { combo in
            let names = combo.key.split(separator: "+")
            return Combination(
                providers: names.isEmpty ? "none" : names.joined(separator: " + "), count: String(names.count),
                assets: Format.count(combo.assets), bytes: Format.bytes(combo.bytes),
                share: Format.percent(combo.assets, of: total))
        }
        // The pairwise matrix follows from the combinations: an asset on {a, b, c} counts for
        // every pair in that set (the diagonal is "on this provider").
        var pairs: [String: [String: Int64]] = [:]
        var spread = [Int64](repeating: 0, count: ids.count + 1)
        var spreadBytes = [Int64](repeating: 0, count: ids.count + 1)
        for combo in data.combinations {
            let names = combo.key.split(separator: "+").map(String.init)
            for a in names { for b in names { pairs[a, default: [:]][b, default: 0] += combo.assets } }
            let slot = min(names.count, spread.count - 1)
            spread[slot] += combo.assets
            spreadBytes[slot] += combo.bytes
        }
        matrix = ids.map { row in
            MatrixRow(provider: row, cells: ids.map { Cell(value: Format.count(pairs[row]?[$0] ?? 0)) })
        }

        let minimum = data.minProviders
        minProviders = String(minimum)
        let under = spread.prefix(max(min(minimum, spread.count), 0))
        underCount = Format.count(under.reduce(0, +))
        underBytes = Format.bytes(spreadBytes.prefix(under.count).reduce(0, +))
        noneCount = Format.count(spread[0])
        noneBytes = Format.bytes(spreadBytes[0])
        underCovered = data.underCovered.map {
            UnderCovered(
                assetID: String($0.assetID), user: $0.userName, filename: $0.originalFilename ?? "",
                size: Format.bytes($0.size), providers: String($0.providers))
        }
        hasUnderCovered = !underCovered.isEmpty
        hasMoreUnderCovered = Int64(data.underCovered.count) < under.reduce(0, +)

        verified = data.integrity.locations.filter { $0.location != "blob" }.map { location in
            let ok = location.checks[.ok] ?? 0
            let bad = (location.checks[.missing] ?? 0) + (location.checks[.corrupt] ?? 0)
            return Verified(
                provider: location.location, recorded: Format.count(location.recorded), covered: Format.count(ok),
                share: Format.percent(Int64(ok), of: Int64(location.recorded)),
                unverified: Format.count(location.unchecked + (location.checks[.unverifiable] ?? 0)),
                bad: Format.count(bad), unreachable: Format.count(location.checks[.unreachable] ?? 0))
        }
        hasVerified = !verified.isEmpty

        let providerBars = data.providerTotals.map {
            BarChart.Bar(
                label: $0.key, value: $0.assets,
                valueLabel: "\(Format.count($0.assets)) (\(Format.percent($0.assets, of: total)))")
        }
        providerChart = ChartRef(
            title: "Assets per provider", file: "charts/coverage-providers.svg",
            svg: BarChart(title: "Assets per provider", bars: providerBars).svg())
        let spreadBars = spread.enumerated().map { index, count in
            BarChart.Bar(
                label: index == 1 ? "1 provider" : "\(index) providers", value: count,
                valueLabel: "\(Format.count(count)) (\(Format.percent(count, of: total)))")
        }
        spreadChart = ChartRef(
            title: "Providers per asset", file: "charts/coverage-spread.svg",
            svg: BarChart(title: "Providers per asset", bars: spreadBars, color: "#6a4a9a").svg())
    }
}
