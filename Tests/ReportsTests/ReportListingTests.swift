import SQLiteStore
import Foundation
import Reports
import Testing

/// Pages list only `listLimit` rows while the totals and exports cover everything: the report
/// keeps the largest groups as they stream by instead of sorting them all in memory.
@Suite struct ReportListingTests {
    /// 40 more cross-user groups of 2 or 3 holders (sizes repeat, so ties are broken by hash)
    /// and 5 more merges.
    static func addGroupsAndMerges(_ db: Database) throws {
        for k in 0..<40 {
            let hash = String(repeating: "0", count: 62) + String(format: "%02x", k)
            let size = 100 + (k * 37) % 11 * 100
            let holders = 2 + k % 2
            for user in 1...holders {
                try db.run(
                    "INSERT INTO assets (id, user_id, sha256, size, original_filename) VALUES (?, ?, ?, ?, ?)",
                    [Int64(100 + k * 4 + user), Int64(user), hash, Int64(size), "g\(k)-\(user).bin"])
            }
        }
        for k in 0..<5 {
            try db.run(
                """
                INSERT INTO asset_merges (user_id, sha256, kept_asset_id, merged_asset_id, merged_original_filename,
                    source, merged_at) VALUES (?, ?, 6, ?, 'old.txt', 'backfill', '2026-03-01T00:00:00.000Z')
                """, [Int64(3 - k % 3), ReportFixture.hashC, Int64(200 + k)])
        }
    }

    /// Reviews, read side by side with the groups (both in hash order): one on a hash that
    /// is no cross-user group (skipped), a superseded one, and ones on either side of it.
    static func addReviews(_ db: Database) throws {
        let group5 = String(repeating: "0", count: 62) + "05"
        for (hash, decision) in [
            (group5, "ignore"), (ReportFixture.hashB, "ignore"), (ReportFixture.hashB, "merged"),
            (ReportFixture.hashC, "ignore"),
        ] {
            try db.run(
                "INSERT INTO duplicate_reviews (group_sha256, decision, reviewed_by) VALUES (?, ?, 'admin')",
                [hash, decision])
        }
    }

    /// `| cell | cell |` rows of the Markdown table that follows `heading`.
    static func tableRows(_ markdown: String, after heading: String) -> [[String]] {
        let section = markdown.components(separatedBy: heading)[1].components(separatedBy: "\n## ")[0]
        return section.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| ---") }.dropFirst()
            .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    @Test func pagesListTheLargestGroupsAndCountEverything() throws {
        try ReportFixture.withStore { store, dir in
            try Self.addGroupsAndMerges(store.db)
            try Self.addReviews(store.db)
            let out = dir + "/reports"
            let job = ReportJob(
                store: store, templatesDirectory: ReportFixture.templates, outputDirectory: out, listLimit: 3,
                now: ReportFixture.day1)
            let outcome = try job.run()
            #expect(outcome.duplicateGroups == 42)

            // The expected order, from every group: largest saving first, then by hash.
            let groups = try store.db.query(
                """
                SELECT sha256, max(size) * (count(*) - 1) FROM assets WHERE sha256 IS NOT NULL
                GROUP BY sha256 HAVING count(*) > 1
                """, cached: false
            ) { (hash: $0.text(0), saved: $0.int(1)) }
            let ranked = groups.sorted { $0.saved != $1.saved ? $0.saved > $1.saved : $0.hash < $1.hash }
            let markdown = try ReportFixture.read("\(out)/duplicates.md")
            let listed = Self.tableRows(markdown, after: "## Identical content").map { $0[0] }
            #expect(listed == ranked.prefix(3).map { "`\($0.hash)`" })
            #expect(markdown.contains("Groups: 42, holding 105 assets."))  // 3 + 2 in the fixture, 20 × 2 + 20 × 3
            #expect(markdown.contains("… and 39 smaller groups (all are in the exports)."))

            // Merges: 6 in all, the first 3 by (user, hash, id) listed.
            #expect(markdown.contains("Rows merged: 6."))
            let merges = Self.tableRows(markdown, after: "## Legacy same-user").map { "\($0[0]) \($0[3])" }
            #expect(merges == ["alice 9", "alice 202", "bob 201"])
            #expect(markdown.contains("… and 3 more."))

            #expect(markdown.contains("Reviewed: 2, not reviewed: 40."))

            // The exports still hold every group, each member with its group's latest review.
            let csv = try ReportFixture.read("\(out)/duplicates.csv")
            let rows = csv.split(separator: "\r\n").dropFirst().map {
                $0.split(separator: ",", omittingEmptySubsequences: false)
            }
            #expect(Set(rows.map { $0[0] }).count == 42)
            let decisions = Dictionary(
                rows.map { (String($0[0]), String($0[9])) }, uniquingKeysWith: { a, b in a + "/" + b })
            #expect(decisions[String(repeating: "0", count: 62) + "05"] == "ignore/ignore/ignore")  // 3 holders
            #expect(decisions[ReportFixture.hashB] == "merged/merged")
            #expect(decisions[ReportFixture.hashA] == "//")  // not reviewed
            #expect(decisions[String(repeating: "0", count: 62) + "06"] == "/")
        }
    }
}
