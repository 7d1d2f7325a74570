import ArgumentParser
import AssetStore
import Foundation

/// `--db PATH`, shared by every command (default `var/assetdedup.sqlite`, env `ASSETDEDUP_DB`).
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite database file (env ASSETDEDUP_DB).")
    var db: String = ProcessInfo.processInfo.environment["ASSETDEDUP_DB"] ?? "var/assetdedup.sqlite"

    /// Opens the database, creating its folder; failures become a one-line CLI error.
    func openStore(mustExist: Bool = true) throws -> SQLiteStore {
        let folder = (db as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        if mustExist && !FileManager.default.fileExists(atPath: db) {
            throw CLIError("database \(db) does not exist; run 'assetdedup migrate up --db \(db)' first")
        }
        do {
            return try SQLiteStore(path: db)
        } catch {
            throw CLIError("cannot open database \(db): \(error)")
        }
    }

    /// Opens the store and checks it is migrated to the latest schema.
    func openMigratedStore() throws -> SQLiteStore {
        let store = try openStore()
        let version = try Migrator(db: store.db).currentVersion()
        guard version == MigrationPlan.latestVersion else {
            throw CLIError(
                "database \(db) is at schema version \(version), this command needs \(MigrationPlan.latestVersion); run 'assetdedup migrate up'"
            )
        }
        return store
    }
}

/// A one-line reason printed to stderr, with exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ParsableCommand {
    /// Runs `body`, turning any thrown error into `error: <one line>` on stderr and exit 1.
    func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ExitCode {
            throw error
        } catch {
            let line = "\(error)".replacingOccurrences(of: "\n", with: " ")
            FileHandle.standardError.write(Data("error: \(line)\n".utf8))
            throw ExitCode.failure
        }
    }
}
