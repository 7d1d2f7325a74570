import ArgumentParser
import AssetDedupCore
import BlobStore
import Foundation
import ImageDecoding
import Providers
import Reports
import StoreProtocols

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
    @Option(help: "Provider config file (JSON): its min_copies is the integrity page's minimum.")
    var config: String?
    @OptionGroup var blobOptions: BlobOptions
    @Option(help: "Data folder (blobs/, tmp/): the near-duplicates page's thumbnails are made from the blobs.")
    var data: String = "var"
    @Flag(help: "No thumbnails on the near-duplicates page (they read each listed image's blob).")
    var noThumbnails = false
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
        let store = try options.openStore()
        let version = try store.schemaVersion()
        guard try store.tableExists("duplicate_reviews") else {
            throw CLIError(
                "database \(options.displayName) is at schema version \(version), too old to report on; run 'assetdedup migrate up'"
            )
        }
        var job = ReportJob(
            store: store, templatesDirectory: templates, outputDirectory: out, minProviders: minProviders,
            now: now.flatMap(Self.parse) ?? Date())
        job.minCopies = try config.map { try ProviderConfig(contentsOf: $0).minCopies } ?? 0
        if !noThumbnails {
            job.thumbnails = Self.thumbnails(from: try blobOptions.open(dataDirectory: data, readOnly: true))
        }
        let outcome = try job.run()
        print(
            "report: \(outcome.files.count) files published to \(out) (history \(outcome.day)); "
                + "\(outcome.totals.assets) assets, \(outcome.duplicateGroups) duplicate groups")
        failed = outcome.failedChecks
        if !failed.isEmpty {
            throw CLIError("migration checks failed: \(failed.joined(separator: "; "))")
        }
    }

    /// 64-pixel JPEG thumbnails as data URIs (~2 KB each), made by libvips from the blob; nil for
    /// a blob that is missing or is not an image this decoder reads (videos get none).
    static func thumbnails(from blobs: any BlobReader) -> (String) -> String? {
        let decoder = ImageDecoder()
        return { hex in
            guard let digest = try? SHA256Digest(parsing: hex),
                let jpeg = try? blobs.withLocalFile(digest, { try decoder.thumbnailJPEG(fileAt: $0) })
            else { return nil }
            return "data:image/jpeg;base64," + Data(jpeg).base64EncodedString()
        }
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)
    }
}
