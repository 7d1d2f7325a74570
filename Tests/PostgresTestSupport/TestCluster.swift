import SQLiteStore
import Foundation
import PostgresStore

/// The PostgreSQL server the integration suites run against: `ASSETDEDUP_TEST_PG_URL`
/// (`scripts/pg-cluster start DIR` prints one). Unset, every test fails saying so, unless
/// `ASSETDEDUP_TEST_PG=skip` says to leave PostgreSQL out of this run.
public enum TestCluster {
    public static let url = ProcessInfo.processInfo.environment["ASSETDEDUP_TEST_PG_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    public static let isSkipped = url == nil && ProcessInfo.processInfo.environment["ASSETDEDUP_TEST_PG"] == "skip"

    public struct NotConfigured: Error, CustomStringConvertible {
        public init() {}
        public var description: String {
            "ASSETDEDUP_TEST_PG_URL is not set: start a cluster (scripts/pg-cluster start var/pg-test) and export "
                + "the URL it prints, or set ASSETDEDUP_TEST_PG=skip to leave the PostgreSQL tests out"
        }
    }

    /// Runs `body` with the URL of a fresh schema (first on `search_path`), dropped afterwards,
    /// so tests running at once never see each other's tables.
    public static func withSchema<T>(_ body: (String) throws -> T) throws -> T {
        let schema = try TestSchema()
        return try withExtendedLifetime(schema) { try body(schema.url) }
    }

    /// `withSchema` with one connection to it.
    public static func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withSchema { url in try body(try PostgresConnection(url: url)) }
    }
}

/// A schema of its own on the test cluster, dropped when the value goes: for a fixture that
/// lives as long as an object rather than a closure (`StoreUnderTest`).
public final class TestSchema {
    /// A URL whose connections see this schema first on `search_path`.
    public let url: String
    private let name: String
    private let admin: PostgresConnection

    public init() throws {
        guard let base = TestCluster.url else { throw TestCluster.NotConfigured() }
        name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        admin = try PostgresConnection(url: base)
        try admin.execute("CREATE SCHEMA \(name)")
        url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(name)"
    }

    deinit { try? admin.execute("DROP SCHEMA \(name) CASCADE") }
}
