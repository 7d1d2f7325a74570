import ArgumentParser
import SQLiteStore
import Foundation
import StoreProtocols

/// `--db`, shared by every command (default `var/assetdedup.sqlite`, env `ASSETDEDUP_DB`).
///
/// The one place that knows the backends: a path is a SQLite file, a `postgres://` or
/// `postgresql://` URL a PostgreSQL database. Commands get the store by protocol.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "SQLite database file, or a postgres:// / postgresql:// URL (env ASSETDEDUP_DB).")
    var db: String = ProcessInfo.processInfo.environment["ASSETDEDUP_DB"] ?? "var/assetdedup.sqlite"

    /// Where the store lives, from `--db`.
    enum Location {
        case sqlite(path: String)
        case postgres(url: String)
    }

    var location: Location {
        db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") ? .postgres(url: db) : .sqlite(path: db)
    }

    /// The SQLite file, or a CLI error naming what needs one (backup, restore, local locks).
    func sqlitePath(for purpose: String) throws -> String {
        guard case .sqlite(let path) = location else {
            throw CLIError("\(purpose) works on a SQLite file; for PostgreSQL use its own tools (pg_dump, pg_restore)")
        }
        return path
    }

    /// `--db` without a password, for messages and logs.
    var displayName: String {
        guard case .postgres(let url) = location, var parts = URLComponents(string: url) else { return db }
        if parts.password != nil { parts.password = "***" }
        return parts.string ?? "postgresql://…"
    }

    /// Opens one connection (one per thread). Failures become a one-line CLI error.
    func makeOpener(mustExist: Bool = true, busyTimeoutMilliseconds: Int32 = 5_000) throws
        -> StoreOpener
    {
        switch location {
        case .sqlite(let path):
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            if mustExist && !FileManager.default.fileExists(atPath: path) {
                throw CLIError("database \(path) does not exist; run 'assetdedup migrate up --db \(path)' first")
            }
            return { try SQLiteStore(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds) }
        case .postgres(let url):
            return { try PostgresStores.open(url: url) }
        }
    }

    func openStore(mustExist: Bool = true) throws -> any AssetDedupStore {
        let open = try makeOpener(mustExist: mustExist)
        do {
            return try open()
        } catch {
            throw CLIError("cannot open database \(displayName): \(error)")
        }
    }

    /// The aggregate SQL of one report in this backend's dialect (`report --print-sql`, for the
    /// benchmark's floor: the same statements run by sqlite3 or psql).
    func reportSQL(minProviders: Int, listLimit: Int) -> [String] {
        switch location {
        case .sqlite: SQLiteStore.reportSQL(minProviders: minProviders, listLimit: listLimit)
        case .postgres: PostgresStores.reportSQL(minProviders: minProviders, listLimit: listLimit)
        }
    }

    /// Opens the store and checks it is migrated to the latest schema.
    func openMigratedStore() throws -> any AssetDedupStore {
        let store = try openStore()
        let version = try store.schemaVersion()
        guard version == store.latestKnownVersion else {
            throw CLIError(
                "database \(displayName) is at schema version \(version), this command needs \(store.latestKnownVersion); run 'assetdedup migrate up'"
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

/// Opens one store connection; serve calls it once per thread.
typealias StoreOpener = @Sendable () throws -> any AssetDedupStore
