import StoreProtocols
import SQLInterface

/// The generic SQL store is every consumer's protocol at once (see StoreProtocols/Store.swift).
extension SQLStore: AssetCatalog, UserDirectory, DeliveryQueue, UploadSessionStore, DuplicateReviews, ReportSource,
    ProviderCoverage, BackfillStore, SchemaMigrations, MediaFingerprints, NearDuplicateReviews
{
    public func readSnapshot<T>(_ body: () throws -> T) throws -> T { try db.readTransaction(body) }
    public var changeCounter: UInt64? { db.dataVersion }
    public func tableExists(_ name: String) throws -> Bool { try db.tableExists(name) }

    public var backendName: String { Connection.dialect.name }
    public var latestKnownVersion: Int { migrations.last?.version ?? 0 }
    public func migrationStatus() throws -> [MigrationStatus] { try migrator().status() }
    @discardableResult
    public func migrateUp(to target: Int?, log: (String) -> Void) throws -> [Int] {
        try migrator().up(to: target, log: log)
    }
    @discardableResult
    public func migrateDown(to target: Int, log: (String) -> Void) throws -> [Int] {
        try migrator().down(to: target, log: log)
    }
    func migrator() throws -> Migrator<Connection> { try Migrator(db: db, plan: migrations) }
}
