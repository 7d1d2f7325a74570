import AssetStore
import Foundation
import Reports
import Testing

/// The Markdown of every page, compared literally with `Golden/*.md`. Set UPDATE_GOLDEN=1 to
/// rewrite them after an intended change, then read the diff.
@Suite struct ReportGoldenTests {
    @Test(arguments: ["index", "duplicates", "coverage", "migrations"])
    func markdownMatchesGoldenFile(page: String) throws {
        try ReportFixture.withStore { store, dir in
            let out = dir + "/www/reports"
            _ = try ReportFixture.job(store, out: out, now: ReportFixture.day1).run()
            try ReportFixture.secondDay(store.db)
            _ = try ReportFixture.job(store, out: out, now: ReportFixture.day2).run()
            let actual = try ReportFixture.read("\(out)/\(page).md")
            let goldenPath = "\(ReportFixture.golden)/\(page).md"
            if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
                try Data(actual.utf8).write(to: URL(fileURLWithPath: goldenPath))
            }
            let expected = try ReportFixture.read(goldenPath)
            #expect(actual == expected)
        }
    }
}
