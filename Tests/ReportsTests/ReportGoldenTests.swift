import SQLiteStore
import Foundation
import PostgresTestSupport
import Reports
import Testing

/// The Markdown of every page, compared literally with `Golden/*.md`. Set UPDATE_GOLDEN=1 to
/// rewrite them after an intended change, then read the diff.
@Suite struct ReportGoldenTests {
    static let pages = ["index", "duplicates", "near-duplicates", "coverage", "integrity", "migrations"]

    @Test(arguments: pages)
    func markdownMatchesGoldenFile(page: String) throws {
        try ReportFixture.withStore { store, dir in
            let actual = try Self.render(page, store: store, dir: dir) { try ReportFixture.secondDay(store.db) }
            let goldenPath = "\(ReportFixture.golden)/\(page).md"
            if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
                try Data(actual.utf8).write(to: URL(fileURLWithPath: goldenPath))
            }
            #expect(actual == (try ReportFixture.read(goldenPath)))
        }
    }

    /// The same fixture on PostgreSQL renders the very same pages: same rows, same order.
    @Test(.enabled(if: !TestCluster.isSkipped), arguments: pages)
    func postgresRendersTheSameGoldenFile(page: String) throws {
        try ReportFixture.withPostgresStore { store, dir in
            let actual = try Self.render(page, store: store, dir: dir) { try ReportFixture.secondDay(store.db) }
            #expect(actual == (try ReportFixture.read("\(ReportFixture.golden)/\(page).md")))
        }
    }

    /// Two runs a day apart (history, changes), with `secondDay` between them; the page's Markdown.
    static func render(_ page: String, store: any ReportSource, dir: String, between: () throws -> Void) throws
        -> String
    {
        let out = dir + "/www/reports"
        _ = try ReportFixture.job(store, out: out, now: ReportFixture.day1).run()
        try between()
        _ = try ReportFixture.job(store, out: out, now: ReportFixture.day2).run()
        return try ReportFixture.read("\(out)/\(page).md")
    }
}
