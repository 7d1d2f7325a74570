import AssetDedupCore
import SQLiteStore
import Foundation
import Testing

/// `StoreBackup`: online copies of a live database and restores into one, all or nothing.
@Suite struct BackupTests {
    func addAssets(_ store: SQLiteStore, user: UserID, seeds: ClosedRange<UInt8>) throws {
        for seed in seeds {
            _ = try store.findOrCreateAsset(
                NewAsset(
                    userID: user, sha256: digest(seed), size: Int64(seed) * 10, mimeType: "image/png",
                    originalFilename: "f\(seed).png", providerID: ProviderID(parsing: "pixverse")))
        }
    }

    @Test func aBackupIsTheSnapshotItStartedFromAndRestoresByteForByte() throws {
        try withTemporaryDatabase { store, dir in
            let user = try store.addUser(name: "alice").id
            try addAssets(store, user: user, seeds: 1...20)
            let before = try dump(store.db, "assets")
            let summary = try StoreBackup.backup(database: store.db.path, to: dir + "/backup.sqlite")
            #expect(summary.schemaVersion == MigrationPlan.latestVersion)
            #expect(summary.assets == 20 && summary.bytes == 2100)
            #expect(!FileManager.default.fileExists(atPath: dir + "/backup.sqlite-wal"))

            // Later writes are not in the backup; a restore brings the database back to it.
            try addAssets(store, user: user, seeds: 21...25)
            let restored = try StoreBackup.restore(from: dir + "/backup.sqlite", to: store.db.path)
            #expect(restored.assets == 20)
            let reopened = try SQLiteStore(path: store.db.path)
            #expect(try dump(reopened.db, "assets") == before)
            #expect(try reopened.db.integrityCheck() == ["ok"])
        }
    }

    @Test func aBackupDuringWritesFromAnotherConnectionIsConsistent() throws {
        try withTemporaryDatabase { store, dir in
            let user = try store.addUser(name: "alice").id
            try addAssets(store, user: user, seeds: 1...10)
            let writer = try SQLiteStore(path: store.db.path)
            // A write transaction open on another connection: WAL lets the backup read past it.
            try writer.db.execute("BEGIN IMMEDIATE")
            try writer.db.execute(
                "INSERT INTO assets (user_id, sha256, size) VALUES (\(user.rawValue), '\(digest(99).hex)', 1)")
            let summary = try StoreBackup.backup(database: store.db.path, to: dir + "/b.sqlite")
            try writer.db.execute("COMMIT")
            #expect(summary.assets == 10)
        }
    }

    @Test func aDamagedOrForeignFileIsRefusedAndTheDatabaseIsUnchanged() throws {
        try withTemporaryDatabase { store, dir in
            let user = try store.addUser(name: "alice").id
            try addAssets(store, user: user, seeds: 1...3)
            let before = try dump(store.db, "assets")
            let notSQLite = dir + "/notes.txt"
            try Data("not a database".utf8).write(to: URL(fileURLWithPath: notSQLite))
            #expect(throws: BackupError.self) { try StoreBackup.restore(from: notSQLite, to: store.db.path) }
            #expect(throws: BackupError.self) { try StoreBackup.restore(from: dir + "/missing", to: store.db.path) }

            // A backup from a newer binary (a schema version this one does not know).
            _ = try StoreBackup.backup(database: store.db.path, to: dir + "/newer.sqlite")
            let newer = try Database(path: dir + "/newer.sqlite")
            try newer.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(MigrationPlan.latestVersion + 1), 'future', 'x')"
            )
            #expect(throws: BackupError.self) {
                try StoreBackup.restore(from: dir + "/newer.sqlite", to: store.db.path)
            }
            #expect(try dump(store.db, "assets") == before)
        }
    }
}
