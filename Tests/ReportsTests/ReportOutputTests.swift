import SQLiteStore
import Foundation
import Reports
import Testing

@Suite struct ReportOutputTests {
    @Test func htmlPagesAreWellFormedWithTablesAndCharts() throws {
        try ReportFixture.withStore { store, dir in
            let out = dir + "/reports"
            try ReportFixture.secondDay(store.db)
            _ = try ReportFixture.job(store, out: out, now: ReportFixture.day1).run()
            let expectations: [String: (tables: Int, charts: Int)] = [
                "index": (1, 2), "duplicates": (3, 1), "near-duplicates": (1, 0), "coverage": (6, 2),
                "integrity": (3, 0),
                "migrations": (2, 1),
            ]
            for (page, expected) in expectations {
                let check = XHTMLCheck.parse(try ReportFixture.read("\(out)/\(page).html"))
                #expect(check.error == nil, "\(page).html: \(check.error ?? "")")
                #expect(check.elements["table"] == expected.tables, "\(page).html tables")
                #expect((check.elements["svg"] ?? 0) == expected.charts, "\(page).html charts")
                #expect(check.elements["nav"] == 1 && check.elements["script"] == nil, "\(page).html")
            }
            let chart = XHTMLCheck.parse(try ReportFixture.read("\(out)/charts/coverage-providers.svg"))
            #expect(chart.error == nil && chart.elements["rect"] == 3)
        }
    }

    /// The integrity exports hold every problem copy (the page lists the first ones) and the
    /// per-location summary; a check of content no asset holds is history, not a problem.
    @Test func integrityExportsHoldEveryProblemAndTheSummary() throws {
        try ReportFixture.withStore { store, dir in
            let out = dir + "/reports"
            _ = try ReportFixture.job(store, out: out, now: ReportFixture.day1).run()
            let csv = try ReportFixture.read("\(out)/integrity.csv").split(separator: "\r\n")
            #expect(csv.first == "sha256,location,state,detail,checked_at")
            #expect(
                csv.dropFirst().map { $0.split(separator: ",")[1...2].joined(separator: " ") } == [
                    "pixverse corrupt", "blob corrupt", "archive missing", "runway unreachable",
                ])
            let json =
                try JSONSerialization.jsonObject(
                    with: Data(try ReportFixture.read("\(out)/integrity.json").utf8)) as! [String: Any]
            #expect(json["min_copies"] as? Int == 2 && (json["problems"] as? [Any])?.count == 4)
            let locations = json["locations"] as! [[String: Any]]
            #expect(locations.map { $0["location"] as! String } == ["blob", "archive", "pixverse", "runway"])
            #expect((locations[0]["checks"] as! [String: Int])["ok"] == 2 && locations[0]["repaired"] as? Int == 1)
        }
    }

    /// Thumbnails are inline data URIs in the HTML page only; the exports hold every group, each
    /// of one user, and never bob's copy of alice's sunset.
    @Test func nearDuplicatesShowThumbnailsInHTMLAndExportEveryGroup() throws {
        try ReportFixture.withStore { store, dir in
            let out = dir + "/reports"
            try ReportFixture.secondDay(store.db)
            var job = ReportFixture.job(store, out: out, now: ReportFixture.day1)
            // A 1x1 JPEG's bytes do not matter here: the page must carry what the source gives.
            job.thumbnails = { sha256 in sha256.hasPrefix("a1") ? "data:image/jpeg;base64,/9j/AAAA" : nil }
            _ = try job.run()
            let html = try ReportFixture.read("\(out)/near-duplicates.html")
            let check = XHTMLCheck.parse(html)
            #expect(check.error == nil, "\(check.error ?? "")")
            #expect(check.elements["img"] == 1, "only asset 1's blob (a1...) has a thumbnail")
            #expect(html.contains("<img src=\"data:image/jpeg;base64,/9j/AAAA\" alt=\"asset 1\""))
            #expect(!(try ReportFixture.read("\(out)/near-duplicates.md")).contains("data:image"))

            let csv = try ReportFixture.read("\(out)/near-duplicates.csv").split(separator: "\r\n")
            #expect(csv.count == 1 + 5)
            #expect(csv.dropFirst().map { $0.split(separator: ",")[5] } == ["1", "10", "11", "4", "12"])
            let json =
                try JSONSerialization.jsonObject(
                    with: Data(try ReportFixture.read("\(out)/near-duplicates.json").utf8)) as! [String: Any]
            let groups = json["groups"] as! [[String: Any]]
            #expect(groups.map { $0["anchor_asset_id"] as! Int } == [1, 4])
            #expect(groups.map { $0["user"] as! String } == ["alice", "alice"])
            #expect(groups.map { ($0["assets"] as! [[String: Any]]).count } == [3, 2])
            #expect((groups[0]["review"] as! [String: Any])["decision"] as! String == "keep")
            #expect(groups[1]["review"] is NSNull, "a decision on other members is not this group's")
        }
    }

    /// The hostile file name is on the coverage page (asset 8 is on one provider, the minimum is 2).
    @Test func hostileFileNamesCannotBreakTablesOrInjectHTML() throws {
        try ReportFixture.withStore { store, dir in
            let out = dir + "/reports"
            try ReportFixture.secondDay(store.db)
            _ = try ReportFixture.job(store, out: out, now: ReportFixture.day1).run()
            let markdown = try ReportFixture.read("\(out)/coverage.md")
            let row = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("| 8 |") })
            #expect(
                row
                    == "| 8 | bob | \\<script\\>alert(1)\\</script\\> \\| a \\& b \\`x\\`\u{21B5}line2 \\<img src=x onerror=y\\> | 100 B | 1 |"
            )
            let html = try ReportFixture.read("\(out)/coverage.html")
            #expect(!html.contains("<script") && !html.contains("<img"))
            #expect(
                html.contains(
                    "<td>&lt;script&gt;alert(1)&lt;/script&gt; | a &amp; b `x`\u{21B5}line2 &lt;img src=x onerror=y&gt;</td>"
                ))
            let check = XHTMLCheck.parse(html)
            #expect(check.error == nil)
            // Exports keep the name as it is, properly quoted.
            let csv = try ReportFixture.read("\(out)/duplicates.csv")
            #expect(!csv.contains("alert"))  // asset 8 is in no duplicate group
            let json = try ReportFixture.read("\(out)/duplicates.json")
            let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            #expect((parsed?["groups"] as? [Any])?.count == 2)
        }
    }

    @Test func interruptedRunLeavesThePublishedReportIntact() throws {
        try ReportFixture.withStore { store, dir in
            let out = dir + "/www/reports"
            _ = try ReportFixture.job(store, out: out, now: ReportFixture.day1).run()
            let before = try ReportFixture.contents(of: out)
            #expect(before["index.html"] != nil && before["history/2026-11-19/totals.json"] != nil)

            try ReportFixture.secondDay(store.db)
            struct Injected: Error {}
            var written: [String] = []
            #expect(throws: Injected.self) {
                try ReportFixture.job(store, out: out, now: ReportFixture.day2) { name in
                    written.append(name)
                    if name == "coverage.html" { throw Injected() }
                }.run()
            }
            #expect(written.contains("index.md") && written.contains("duplicates.html"))
            #expect(try ReportFixture.contents(of: out) == before)
            // No staging or retired folders are left beside it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/www") == ["reports"])

            // The next complete run publishes, keeping the first day's history.
            let outcome = try ReportFixture.job(store, out: out, now: ReportFixture.day2).run()
            #expect(outcome.day == "2026-11-20")
            let after = try ReportFixture.contents(of: out)
            #expect(after["history/2026-11-19/index.md"] == before["index.md"])
            #expect(after["history/2026-11-20/totals.json"] != nil)
            #expect(after["index.md"] != before["index.md"])
        }
    }

    @Test func aMissingPerUserIndexFailsTheChecks() throws {
        try ReportFixture.withStore { store, dir in
            try store.db.execute(
                """
                DELETE FROM provider_uploads WHERE asset_id IN (2, 3, 5); DELETE FROM assets WHERE id IN (2, 3, 5);
                DROP INDEX idx_asset_user_sha256; CREATE UNIQUE INDEX idx_sha ON assets(sha256);
                """)
            let outcome = try ReportFixture.job(store, out: dir + "/r", now: ReportFixture.day1).run()
            #expect(
                outcome.failedChecks == [
                    "idx_asset_user_sha256 exists: missing: per-user dedup is not enforced",
                    "idx_asset_user_sha256 is unique: not unique",
                    "idx_asset_user_sha256 is partial: not partial",
                    "idx_asset_user_sha256 is on (user_id, sha256): no columns",
                    "No global unique on sha256: found: idx_sha",
                ])
            let page = try ReportFixture.read(dir + "/r/migrations.md")
            #expect(page.contains("**5 check(s) FAILED**"))
            #expect(try ReportFixture.read(dir + "/r/index.md").contains("Attention: migration checks failed"))
        }
    }

    @Test func reviewsAreValidatedAndTheLatestDecisionWins() throws {
        try ReportFixture.withStore { store, dir in
            #expect(throws: StoreError.unknownGroup(ReportFixture.hashE)) {
                try store.recordDuplicateReview(
                    group: ReportFixture.hashE, decision: "ignore", keepAssetID: nil, note: nil, reviewedBy: "alice")
            }
            #expect(throws: StoreError.assetNotInGroup(asset: 4, group: ReportFixture.hashA)) {
                try store.recordDuplicateReview(
                    group: ReportFixture.hashA, decision: "keep", keepAssetID: 4, note: nil, reviewedBy: "alice")
            }
            #expect(throws: StoreError.unknownAsset(99)) {
                try store.recordDuplicateReview(
                    group: ReportFixture.hashA, decision: "keep", keepAssetID: 99, note: nil, reviewedBy: "alice")
            }
            try store.recordDuplicateReview(
                group: ReportFixture.hashB, decision: "keep", keepAssetID: 5, note: nil, reviewedBy: "bob")
            try store.recordDuplicateReview(
                group: ReportFixture.hashB, decision: "ignore", keepAssetID: nil, note: "fine", reviewedBy: "carol")
            #expect(try store.latestDuplicateReviews()[ReportFixture.hashB]?.decision == "ignore")
            _ = try ReportFixture.job(store, out: dir + "/r", now: ReportFixture.day1).run()
            #expect(try ReportFixture.read(dir + "/r/duplicates.md").contains("| ignore (carol, "))
        }
    }
}
