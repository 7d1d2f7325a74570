import ArgumentParser
import SQLiteStore
import Foundation

/// `assetdedup backup --to FILE`: a consistent copy of the database while the app serves.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to FILE as one consistent snapshot, while the app keeps serving.",
        discussion: "Blobs are files: copy <data>/blobs after the backup (rsync); every blob it names is there by then."
    )
    @OptionGroup var options: StoreOptions
    @Option(help: "The backup file to write (replaced atomically).") var to: String

    func run() throws {
        let path = try options.sqlitePath(for: "backup")
        _ = try options.openStore()
        let summary = try StoreBackup.backup(database: path, to: to)
        print(
            "backup \(to): schema version \(summary.schemaVersion), \(summary.assets) assets (\(summary.bytes) bytes of content), integrity ok"
        )
    }
}

/// `assetdedup restore --from FILE`: puts a backup back, refusing while `serve` runs on it.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Replace the database with a backup made by 'assetdedup backup'.")
    @OptionGroup var options: StoreOptions
    @Option(help: "The backup file to restore.") var from: String

    func run() throws {
        // Held for the whole restore: no serve can start on the database meanwhile.
        let path = try options.sqlitePath(for: "restore")
        let lock = try FileLock.serve(databasePath: path, exclusive: true)
        let summary = try StoreBackup.restore(from: from, to: path)
        withExtendedLifetime(lock) {}
        print(
            "restored \(path) from \(from): schema version \(summary.schemaVersion), \(summary.assets) assets; run 'assetdedup migrate up' if that is not the latest"
        )
    }
}
