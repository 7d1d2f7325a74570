import SQLInterface

/// Streaming reads, for report queries whose rows are written out as they come.
extension Database {
    /// Runs a statement and hands each row to `body` without collecting them, so a query over a
    /// million rows costs one row of memory.
    public func forEachRow(
        _ sql: String, _ arguments: [SQLBindable], cached: Bool, _ body: (Row) throws -> Void
    ) throws {
        let statement = try statement(sql, cached: cached)
        defer { statement.reset() }
        try statement.bind(arguments.map(\.sqlValue))
        while try statement.step() {
            try body(Row(handle: statement.handle))
        }
    }
}
