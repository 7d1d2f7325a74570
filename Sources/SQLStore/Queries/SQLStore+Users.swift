import AssetDedupCore
import SQLInterface

extension SQLStore {
    /// Creates a user; a taken name is `StoreError.userExists`.
    @discardableResult
    public func addUser(name: String, isAdmin: Bool = false) throws -> User {
        let name = try UserName.validate(name)
        do {
            return try db.writeTransaction {
                let id = try db.queryFirst(
                    "INSERT INTO users (name, is_admin) VALUES (?, ?) RETURNING id", [name, isAdmin], cached: false
                ) { $0.int(0) }!
                return try user(id: UserID(id))!
            }
        } catch let error as SQLFailure where error.isUniqueViolation {
            throw StoreError.userExists(name)
        }
    }

    public func user(id: UserID) throws -> User? {
        try db.queryFirst("SELECT id, name, is_admin, created_at FROM users WHERE id = ?", [id.rawValue], row: Self.user)
    }

    public func user(named name: String) throws -> User? {
        try db.queryFirst("SELECT id, name, is_admin, created_at FROM users WHERE name = ?", [name], row: Self.user)
    }

    public func listUsers() throws -> [User] {
        try db.query("SELECT id, name, is_admin, created_at FROM users ORDER BY id", row: Self.user)
    }

    static func user(_ row: Row) -> User {
        User(id: UserID(row.int(0)), name: row.text(1), isAdmin: row.int(2) != 0, createdAt: row.text(3))
    }
}
