import Foundation

/// The pages of a report, in navigation order; the raw value names the files and templates.
enum ReportPageID: String, CaseIterable, Sendable {
    case index, duplicates
    case nearDuplicates = "near-duplicates"
    case coverage, integrity, migrations
}

/// One page's model, typed: which template renders it follows from the case.
enum ReportPage {
    case index(IndexPage)
    case duplicates(DuplicatesPage)
    case nearDuplicates(NearDuplicatesPage)
    case coverage(CoveragePage)
    case integrity(IntegrityPage)
    case migrations(MigrationsPage)

    var id: ReportPageID {
        switch self {
        case .index: .index
        case .duplicates: .duplicates
        case .nearDuplicates: .nearDuplicates
        case .coverage: .coverage
        case .integrity: .integrity
        case .migrations: .migrations
        }
    }
}

/// The page models of one run, built once per format from the same data.
struct PageSet {
    let data: ReportData
    let checks: [MigrationCheck]
    let current: HistoryEntry
    let previous: HistoryEntry?
    let history: [HistoryEntry]
    let listLimit: Int
    let generatedAt: String

    /// The model a page's template renders, for the `.md` or the `.html` file.
    func page(_ id: ReportPageID, format: PageFormat) -> ReportPage {
        switch id {
        case .index: .index(index(format: format))
        case .duplicates: .duplicates(duplicates(format: format))
        case .nearDuplicates: .nearDuplicates(nearDuplicates(format: format))
        case .coverage: .coverage(coverage(format: format))
        case .integrity:
            .integrity(IntegrityPage(data: data, listLimit: listLimit, generatedAt: generatedAt, format: format))
        case .migrations: .migrations(migrations(format: format))
        }
    }

    func index(format: PageFormat) -> IndexPage {
        IndexPage(
            current: current, previous: previous, history: history, checks: checks, generatedAt: generatedAt,
            format: format)
    }

    func duplicates(format: PageFormat) -> DuplicatesPage {
        DuplicatesPage(data: data, listLimit: listLimit, generatedAt: generatedAt, format: format)
    }

    func nearDuplicates(format: PageFormat) -> NearDuplicatesPage {
        NearDuplicatesPage(data: data, listLimit: listLimit, generatedAt: generatedAt, format: format)
    }

    func coverage(format: PageFormat) -> CoveragePage {
        CoveragePage(data: data, listLimit: listLimit, generatedAt: generatedAt, format: format)
    }

    func migrations(format: PageFormat) -> MigrationsPage {
        MigrationsPage(data: data, checks: checks, generatedAt: generatedAt, format: format)
    }

    /// Every chart, written as `charts/*.svg` for the Markdown pages and the history.
    var charts: [ChartRef] {
        let index = index(format: .markdown)
        let duplicates = duplicates(format: .markdown)
        let coverage = coverage(format: .markdown)
        let migrations = migrations(format: .markdown)
        return [
            index.countChart, index.bytesChart, duplicates.chart, coverage.providerChart, coverage.spreadChart,
            migrations.chart,
        ]
    }
}
