import StoreProtocols

/// Placeholder until the PostgreSQL backend lands: `--db postgresql://…` is refused by name.
enum PostgresStores {
    static func open(url: String) throws -> any AssetDedupStore {
        throw CLIError("this build has no PostgreSQL backend")
    }
    static func reportSQL(minProviders: Int, listLimit: Int) -> [String] { [] }
}
