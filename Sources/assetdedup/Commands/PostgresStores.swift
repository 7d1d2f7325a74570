import SQLiteStore
import PostgresStore
import StoreProtocols

/// The PostgreSQL backend as the commands see it: the shared SQL store on a libpq connection.
enum PostgresStores {
    static func open(url: String) throws -> any AssetDedupStore {
        SQLStore(db: try PostgresConnection(url: url))
    }

    static func reportSQL(minProviders: Int, listLimit: Int) -> [String] {
        SQLStore<PostgresConnection>.reportSQL(minProviders: minProviders, listLimit: listLimit)
    }
}
