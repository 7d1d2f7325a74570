import SQLiteStore
import Foundation
import Testing

/// `Timestamp` is the text SQLite itself would write for the same instant.
@Suite struct TimestampTests {
    @Test func timestampsMatchSQLite() throws {
        try withTemporaryDatabase { store, _ in
            let now = Date(timeIntervalSince1970: 1_800_000_000.25)
            let sqlite = try #require(
                try store.db.queryFirst(
                    "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?, 'unixepoch')", [now.timeIntervalSince1970]
                ) { $0.text(0) })
            #expect(Timestamp.string(now) == sqlite)
            #expect(sqlite == "2027-01-15T08:00:00.250Z")
            #expect(Timestamp.string(Date(timeIntervalSince1970: 0.5)) == "1970-01-01T00:00:00.500Z")
            #expect(Timestamp.string(Date(timeIntervalSince1970: 59.9996)) == "1970-01-01T00:01:00.000Z")
        }
    }
}
