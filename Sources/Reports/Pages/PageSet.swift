import Foundation

/// The four page models of one run, built once per format from the same data.
struct PageSet {
    let data: ReportData
    let checks: [MigrationCheck]
    let current: HistoryEntry
    let previous: HistoryEntry?
    let history: [HistoryEntry]
    let listLimit: Int
    let generatedAt: String

    /// The model a page's template renders, for the `.md` or the `.html` file.
    func model(_ name: String, format: PageFormat) -> Any {
        switch name {
        case "duplicates":
            DuplicatesPage(data: data, listLimit: listLimit, generatedAt: generatedAt, format: format)
        case "coverage":
            CoveragePage(data: data, listLimit: listLimit, generatedAt: generatedAt, format: format)
        case "migrations":
            MigrationsPage(data: data, checks: checks, generatedAt: generatedAt, format: format)
        default:
            IndexPage(
                current: current, previous: previous, history: history, checks: checks, generatedAt: generatedAt,
                format: format)
        }
    }

    /// Every chart, written as `charts/*.svg` for the Markdown pages and the history.
    var charts: [ChartRef] {
        let index = model("index", format: .markdown) as! IndexPage
        let duplicates = model("duplicates", format: .markdown) as! DuplicatesPage
        let coverage = model("coverage", format: .markdown) as! CoveragePage
        let migrations = model("migrations", format: .markdown) as! MigrationsPage
        return [
            index.countChart, index.bytesChart, duplicates.chart, coverage.providerChart, coverage.spreadChart,
            migrations.chart,
        ]
    }
}
