import ArgumentParser
import StoreProtocols
import Foundation
import Reports

/// `assetdedup report`: the nightly dashboards, published atomically; exit 1 when a migrations
/// check fails so that cron mails the output.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render the Markdown and HTML reports (index, duplicates, coverage, migrations) into --out.")
    @OptionGroup var options: StoreOptions
    @Option(help: "Report folder to publish (served under /reports/), e.g. www/reports.") var out: String
    @Option(help: "Templates folder; its reports/ holds layout.html.mustache and the *.md.mustache pages.")
    var templates: String = "templates"
    @Option(help: "List assets held by fewer providers than this.") var minProviders: Int = 1
    @Option(help: .hidden) var now: String?
    @Flag(help: .hidden) var printSQL = false

    func validate() throws {
        if minProviders < 0 { throw ValidationError("--min-providers must be >= 0, got \(minProviders)") }
        if let now, Self.parse(now) == nil {
            throw ValidationError("--now must be an ISO-8601 time such as 2026-11-20T03:00:00Z, got '\(now)'")
        }
    }

    func run() throws {
        if printSQL {
            for sql in options.reportSQL(minProviders: minProviders, listLimit: 100) { print(sql + ";") }
            return
        }
        var failed: [String] = []
        try reportingErrors {
            let store = try options.openStore()
            let version = try store.schemaVersion()
            guard try store.tableExists("duplicate_reviews") else {
                throw CLIError(
                    "database \(options.displayName) is at schema version \(version), too old to report on; run 'assetdedup migrate up'")
            }
            let job = ReportJob(
                store: store, templatesDirectory: templates, outputDirectory: out, minProviders: minProviders,
                now: now.flatMap(Self.parse) ?? Date())
            let outcome = try job.run()
            print(
                "report: \(outcome.files.count) files published to \(out) (history \(outcome.day)); "
                    + "\(outcome.totals.assets) assets, \(outcome.duplicateGroups) duplicate groups")
            failed = outcome.failedChecks
            if !failed.isEmpty {
                throw CLIError("migration checks failed: \(failed.joined(separator: "; "))")
            }
        }
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)
    }
}
