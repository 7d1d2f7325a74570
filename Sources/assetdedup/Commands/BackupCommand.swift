import ArgumentParser
import AssetStore
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
        try reportingErrors {
            _ = try options.openStore()
            let summary = try StoreBackup.backup(database: options.db, to: to)
            print(
                "backup \(to): schema version \(summary.schemaVersion), \(summary.assets) assets (\(summary.bytes) bytes of content), integrity ok"
            )
        }
    }
}

/// `assetdedup restore --from FILE`: puts a backup back, refusing while `serve` runs on it.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Replace the database with a backup made by 'assetdedup backup'.")
    @OptionGroup var options: StoreOptions
    @Option(help: "The backup file to restore.") var from: String

    func run() throws {
        try reportingErrors {
            // Held for the whole restore: no serve can start on the database meanwhile.
            let lock = try FileLock.serve(databasePath: options.db, exclusive: true)
            let summary = try StoreBackup.restore(from: from, to: options.db)
            withExtendedLifetime(lock) {}
            print(
                "restored \(options.db) from \(from): schema version \(summary.schemaVersion), \(summary.assets) assets; run 'assetdedup migrate up' if that is not the latest"
            )
        }
    }
}
