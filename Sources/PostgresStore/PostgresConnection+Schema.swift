import SQLStore

/// Schema introspection for migration guards and the migrations report, in the current schema
/// (the first of `search_path` that exists), by exact (stored, lower-case) name.
extension PostgresConnection {
    public func tableExists(_ name: String) throws -> Bool {
        try queryFirst(
            """
            SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname = ? AND c.relkind IN ('r', 'p')
            """, [name]
        ) { _ in true } ?? false
    }

    public func indexExists(_ name: String) throws -> Bool {
        try queryFirst(
            """
            SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relname = ? AND c.relkind IN ('i', 'I')
            """, [name]
        ) { _ in true } ?? false
    }

    /// Every index on `table`, primary key included, by name: unique, partial (`indpred`), and
    /// its key columns in index order (an expression column reads as its expression).
    public func indexes(on table: String) throws -> [SQLIndexFacts] {
        var indexes: [SQLIndexFacts] = []
        try forEachRow(
            """
            SELECT i.relname, x.indisunique, x.indpred IS NOT NULL, pg_catalog.pg_get_indexdef(x.indexrelid, k.n, true)
            FROM pg_catalog.pg_index x
            JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
            JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
            CROSS JOIN LATERAL generate_series(1, x.indnkeyatts) AS k(n)
            WHERE n.nspname = current_schema() AND t.relname = ?
            ORDER BY i.relname, k.n
            """, [table], cached: false
        ) { row in
            let name = row.text(0)
            if indexes.last?.name != name {
                indexes.append(
                    SQLIndexFacts(name: name, isUnique: row.int(1) == 1, isPartial: row.int(2) == 1, columns: []))
            }
            indexes[indexes.count - 1].columns.append(row.text(3))
        }
        return indexes
    }
}
