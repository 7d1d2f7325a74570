import Foundation
import AssetDedupCore
import struct Crypto.SHA256
import SQLInterface

extension SQLStore {
    /// The SHA-256 (hex) under which a token is stored and looked up.
    public static func tokenHash(_ token: String) -> String {
        SHA256Digest(bytes: SHA256.hash(data: Array(token.utf8))).hex
    }

    /// Creates a token for the user and returns it with its plaintext, which is shown once.
    public func issueToken(for user: UserID, label: String? = nil) throws -> (token: APIToken, secret: String) {
        var generator = SystemRandomNumberGenerator()  // getrandom(2) on Linux: cryptographically secure
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = "adt_" + SHA256Digest(bytes: bytes).hex
        let token = try db.writeTransaction {
            let id = try db.queryFirst(
                "INSERT INTO api_tokens (user_id, token_sha256, label) VALUES (?, ?, ?) RETURNING id",
                [user.rawValue, Self.tokenHash(secret), label], cached: false
            ) { $0.int(0) }!
            return try self.token(id: id)!
        }
        return (token, secret)
    }

    public func token(id: Int64) throws -> APIToken? {
        try db.queryFirst(
            "SELECT id, user_id, label, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = ?", [id],
            row: Self.token)
    }

    public func listTokens(for user: UserID) throws -> [APIToken] {
        try db.query(
            "SELECT id, user_id, label, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = ? ORDER BY id",
            [user.rawValue], row: Self.token)
    }

    /// Revokes a token; revoking twice keeps the first time. Unknown ids are an error.
    public func revokeToken(id: Int64) throws {
        try db.writeTransaction {
            guard try token(id: id) != nil else { throw StoreError.unknownToken(id) }
            try db.run("UPDATE api_tokens SET revoked_at = \(Self.now) WHERE id = ? AND revoked_at IS NULL", [id])
        }
    }

    /// The user behind a live (not revoked) token, or nil. Read-only.
    public func authenticate(token: String) throws -> AuthenticatedUser? {
        try db.queryFirst(
            """
            SELECT u.id, u.name, u.is_admin, t.id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_sha256 = ? AND t.revoked_at IS NULL
            """, [Self.tokenHash(token)], row: Self.authenticatedUser)
    }

    /// Columns 0-4: user id, name, is_admin, token id, last_used_at.
    static func authenticatedUser(_ row: Row) -> AuthenticatedUser {
        AuthenticatedUser(
            userID: UserID(row.int(0)), name: row.text(1), isAdmin: row.int(2) != 0, tokenID: row.int(3),
            lastUsedAt: row.optionalText(4))
    }

    /// Stamps `last_used_at`, at most once a minute per token so reads stay mostly read-only.
    public func touchToken(id: Int64) throws {
        try db.withoutWaitingForLocks {
            try db.run(
            """
            UPDATE api_tokens SET last_used_at = \(Self.now)
            WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)
            """, [id, Timestamp.string(Date().addingTimeInterval(-60))])
        }
    }

    static func token(_ row: Row) -> APIToken {
        APIToken(
            id: row.int(0), userID: UserID(row.int(1)), label: row.optionalText(2), createdAt: row.text(3),
            lastUsedAt: row.optionalText(4), revokedAt: row.optionalText(5))
    }
}
