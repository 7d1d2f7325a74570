import Foundation
import StoreProtocols

/// What one report run found and wrote.
public struct ReportOutcome: Sendable {
    /// The history folder name of this run (`2026-11-20`).
    public let day: String
    /// Files written, relative to the report folder.
    public let files: [String]
    /// Failed migrations-page checks, as `name: detail`; non-empty makes the CLI exit 1.
    public let failedChecks: [String]
    public let duplicateGroups: Int
    public let totals: StoreTotals
}

/// One nightly run: read one snapshot of the store, render every page in both formats, write
/// the exports, and publish the folder atomically with its dated history.
public struct ReportJob {
    public var store: any ReportSource
    public var templatesDirectory: String
    public var outputDirectory: String
    /// Assets on fewer providers than this are listed on the coverage page.
    public var minProviders: Int
    /// The provider config's `min_copies`: content below it is listed on the integrity page.
    public var minCopies: Int = 0
    /// Rows shown per table before "and N more" (the exports always hold everything).
    public var listLimit: Int
    /// The run's clock; tests pin it so output is deterministic.
    public var now: Date
    /// Called after each file is written to the staging folder; a throw aborts the run (tests
    /// use it to prove an interrupted run leaves the published report intact).
    public var afterWriting: (String) throws -> Void
    /// A small thumbnail of the blob with this SHA-256 (hex) as a `data:image/jpeg;base64,...`
    /// URI, for the near-duplicates HTML page; nil (the default) shows none.
    public var thumbnails: ((String) -> String?)?

    public init(
        store: any ReportSource, templatesDirectory: String, outputDirectory: String, minProviders: Int = 1,
        listLimit: Int = 100, now: Date = Date(), afterWriting: @escaping (String) throws -> Void = { _ in }
    ) {
        self.store = store
        self.templatesDirectory = templatesDirectory
        self.outputDirectory = outputDirectory
        self.minProviders = minProviders
        self.listLimit = listLimit
        self.now = now
        self.afterWriting = afterWriting
    }

    public func run() throws -> ReportOutcome {
        let renderer = try ReportRenderer(templatesDirectory: templatesDirectory)
        let day = Format.day(now)
        let generatedAt = Format.timestamp(now)
        let publisher = ReportPublisher(target: outputDirectory)
        let earlier = HistoryEntry.load(reportDirectory: outputDirectory)
        let staged = try publisher.stage(replacingDay: day)
        do {
            var files: [String] = []
            func write(_ text: String, _ name: String) throws {
                let path = "\(staged)/\(name)"
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                files.append(name)
                try afterWriting(name)
            }

            let data = try store.readSnapshot {
                let export = try DuplicateExport(directory: staged, generatedAt: generatedAt)
                let nearExport = try NearDuplicateExport(
                    directory: staged, generatedAt: generatedAt, threshold: NearDuplicateSummary.defaultThreshold)
                var data = try ReportData.load(
                    from: store, minProviders: minProviders, minCopies: minCopies, listLimit: listLimit,
                    member: export.append, nearDuplicateGroup: nearExport.append)
                try export.close()
                try nearExport.close()
                if let thumbnails { data.nearDuplicates.attachThumbnails(thumbnails) }
                if try store.tableExists("verify_passes") {
                    let csv = try BufferedFile(path: "\(staged)/integrity.csv")
                    let json = try BufferedFile(path: "\(staged)/integrity.json")
                    try IntegrityExport.write(
                        data.integrity, from: store, csv: csv, json: json, generatedAt: generatedAt)
                    try csv.close()
                    try json.close()
                    files += ["integrity.csv", "integrity.json"]
                }
                return data
            }
            files += ["duplicates.csv", "duplicates.json", "near-duplicates.csv", "near-duplicates.json"]
            try afterWriting("duplicates.json")
            try afterWriting("near-duplicates.json")
            let coverageCSV = try BufferedFile(path: "\(staged)/coverage-users.csv")
            try CoverageExport.write(data, to: coverageCSV)
            try coverageCSV.close()
            files.append("coverage-users.csv")
            try afterWriting("coverage-users.csv")

            let checks = MigrationCheck.evaluate(migrations: data.migrations, facts: data.indexFacts)
            let current = HistoryEntry(
                date: day, generatedAt: generatedAt, totals: data.totals, duplicateGroups: data.duplicates.groupCount)
            let history = earlier.filter { $0.date < day } + [current]
            let pages = PageSet(
                data: data, checks: checks, current: current, previous: earlier.last, history: history,
                listLimit: listLimit, generatedAt: generatedAt)

            var snapshotFiles: [String] = []
            for id in PageInfo.all.map(\.id) {
                let name = id.rawValue
                let markdown = renderer.markdown(pages.page(id, format: .markdown))
                let htmlMarkdown = renderer.markdown(pages.page(id, format: .htmlPage))
                try write(markdown, "\(name).md")
                try write(renderer.html(page: id, markdown: htmlMarkdown, generatedAt: generatedAt), "\(name).html")
                snapshotFiles += ["\(name).md", "\(name).html"]
            }
            for chart in pages.charts {
                try write(chart.svg + "\n", chart.file)
                snapshotFiles.append(chart.file)
            }
            try write(String(decoding: try current.json(), as: UTF8.self), "totals.json")
            snapshotFiles.append("totals.json")
            try publisher.snapshot(staged: staged, day: day, files: snapshotFiles)
            try publisher.publish(staged: staged)
            return ReportOutcome(
                day: day, files: files, failedChecks: checks.filter { !$0.ok }.map { "\($0.name): \($0.detail)" },
                duplicateGroups: data.duplicates.groupCount, totals: data.totals)
        } catch {
            publisher.discard(staged: staged)
            throw error
        }
    }
}
