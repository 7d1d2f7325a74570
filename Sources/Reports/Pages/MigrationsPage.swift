import StoreProtocols

/// The migrations page: schema history, the index checks, and how far backfill has come.
struct MigrationsPage: Sendable {
    struct Line: Sendable {
        var version: String
        var name: String
        var state: String
        var appliedAt: String
    }

    var format: PageFormat
    var generatedAt: String
    var migrations: [Line]
    var checks: [MigrationCheck]
    var allChecksPass: Bool
    var failedChecks: String
    var hashedAssets: String
    var totalAssets: String
    var hashedPercent: String
    var unhashedAssets: String
    var unhashedBytes: String
    var backfillDone: Bool
    var chart: ChartRef
    var partialUploadCount: String
    var partialUploadBytes: String
    var hasPartialUploads: Bool
    var orphanCount: String
    var orphanBytes: String
    var hasOrphans: Bool
    var lastOrphanMark: String

    init(data: ReportData, checks: [MigrationCheck], generatedAt: String, format: PageFormat) {
        self.format = format
        self.generatedAt = generatedAt
        migrations = data.migrations.map { status in
            let (state, at): (String, String) =
                switch status.state {
                case .applied(let at): ("applied", Format.storedTimestamp(at))
                case .pending: ("pending", "")
                case .drifted(let at, _): ("DRIFTED (edited after it was applied)", Format.storedTimestamp(at))
                case .unknown(let at): ("UNKNOWN (not in this binary)", Format.storedTimestamp(at))
                }
            return Line(version: String(status.version), name: status.name, state: state, appliedAt: at)
        }
        self.checks = checks
        let failed = checks.filter { !$0.ok }
        allChecksPass = failed.isEmpty
        failedChecks = Format.count(failed.count)
        let totals = data.totals
        let hashed = totals.assets - totals.unhashedAssets
        hashedAssets = Format.count(hashed)
        totalAssets = Format.count(totals.assets)
        hashedPercent = totals.assets == 0 ? "100.0%" : Format.percent(hashed, of: totals.assets)
        unhashedAssets = Format.count(totals.unhashedAssets)
        unhashedBytes = Format.bytes(totals.unhashedBytes)
        backfillDone = totals.unhashedAssets == 0
        let bars = BarChart(
            title: "Backfill progress",
            bars: [
                .init(label: "hashed", value: hashed, valueLabel: "\(Format.count(hashed)) (\(hashedPercent))"),
                .init(
                    label: "awaiting backfill", value: totals.unhashedAssets,
                    valueLabel: Format.count(totals.unhashedAssets)),
            ], color: "#4a8a4a")
        partialUploadCount = Format.count(Int64(data.partialUploads.count))
        partialUploadBytes = Format.bytes(data.partialUploads.bytes)
        hasPartialUploads = data.partialUploads.count > 0
        orphanCount = Format.count(Int64(data.orphans.count))
        orphanBytes = Format.bytes(data.orphans.bytes)
        hasOrphans = data.orphans.count > 0
        lastOrphanMark = data.orphans.lastMarkedAt.map(Format.storedTimestamp) ?? ""
        chart = ChartRef(title: "Backfill progress", file: "charts/migrations-backfill.svg", svg: bars.svg())
    }
}
