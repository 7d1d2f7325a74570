/// The index page: headline totals, what changed since the last run, the trend, and links.
struct IndexPage: Sendable {
    struct Metric: Sendable {
        var label: String
        var value: String
        var change: String
    }

    struct Link: Sendable {
        var title: String
        var file: String
        var summary: String
    }

    struct Day: Sendable { var date: String }

    var format: PageFormat
    var generatedAt: String
    var metrics: [Metric]
    var hasPrevious: Bool
    var previousRun: String
    var checksPass: Bool
    var failedChecks: [MigrationCheck]
    var pages: [Link]
    var exports: [Link]
    var history: [Day]
    var countChart: ChartRef
    var bytesChart: ChartRef

    /// `history` holds earlier runs (oldest first) and ends with this run's entry.
    init(
        current: HistoryEntry, previous: HistoryEntry?, history: [HistoryEntry], checks: [MigrationCheck],
        generatedAt: String, format: PageFormat
    ) {
        self.format = format
        self.generatedAt = generatedAt
        func metric(_ label: String, _ value: (HistoryEntry) -> Int64, bytes: Bool = false) -> Metric {
            let now = value(current)
            let text = bytes ? Format.bytes(now) : Format.count(now)
            let change = previous.map { Format.change(now - value($0), bytes: bytes) } ?? "first run"
            return Metric(label: label, value: text, change: change)
        }
        metrics = [
            metric("Users", \.users),
            metric("Assets", \.assets),
            metric("Bytes", \.bytes, bytes: true),
            metric("Unique content (distinct hashes)", \.uniqueContents),
            metric("Bytes of unique content", \.uniqueBytes, bytes: true),
            metric("Bytes saved by dedup", \.bytesSaved, bytes: true),
            metric("Duplicate groups (several users)", \.duplicateGroups),
            metric("Provider uploads", \.providerUploads),
            metric("Rows awaiting backfill", \.unhashedAssets),
        ]
        hasPrevious = previous != nil
        previousRun = previous?.generatedAt ?? ""
        failedChecks = checks.filter { !$0.ok }
        checksPass = failedChecks.isEmpty
        pages = PageInfo.all.dropFirst().map { Link(title: $0.title, file: "\($0.name).\(format.ext)", summary: $0.summary) }
        exports = [
            Link(title: "Duplicate groups (CSV)", file: "duplicates.csv", summary: "one row per asset in a group"),
            Link(title: "Duplicate groups (JSON)", file: "duplicates.json", summary: "groups with their assets"),
            Link(title: "Assets per user and provider (CSV)", file: "coverage-users.csv", summary: "every user"),
        ]
        self.history = history.reversed().prefix(31).map { Day(date: $0.date) }
        let dates = history.map(\.date)
        func trend(_ title: String, _ file: String, _ series: [LineChart.Series], _ format: @escaping (Int64) -> String) -> ChartRef {
            ChartRef(title: title, file: file, svg: LineChart(title: title, dates: dates, series: series, formatValue: format).svg())
        }
        countChart = trend(
            "Assets and unique content", "charts/trend-counts.svg",
            [
                .init(name: "assets", color: "#3b6ea8", values: history.map(\.assets)),
                .init(name: "unique content", color: "#4a8a4a", values: history.map(\.uniqueContents)),
                .init(name: "duplicate groups", color: "#8a5a2b", values: history.map(\.duplicateGroups)),
            ], Format.count)
        bytesChart = trend(
            "Bytes stored and saved", "charts/trend-bytes.svg",
            [
                .init(name: "bytes", color: "#3b6ea8", values: history.map(\.bytes)),
                .init(name: "unique bytes", color: "#4a8a4a", values: history.map(\.uniqueBytes)),
                .init(name: "saved by dedup", color: "#8a5a2b", values: history.map(\.bytesSaved)),
            ], Format.bytes)
    }
}
