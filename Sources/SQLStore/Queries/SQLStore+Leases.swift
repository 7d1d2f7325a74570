import Foundation
import StoreProtocols
import SQLInterface

/// Named leases (migration 10): held until they expire, renewed by taking them again.
extension SQLStore: NamedLeases {
    public func acquireLease(name: String, owner: String, seconds: Double, now: Date) throws -> NamedLease {
        try db.writeTransaction {
            try db.run(
                """
                INSERT INTO leases (name, owner, expires_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (name) DO UPDATE SET owner = ?2, expires_at = ?3
                WHERE leases.owner = ?2 OR leases.expires_at <= ?4
                """,
                [name, owner, Timestamp.string(now.addingTimeInterval(max(seconds, 1))), Timestamp.string(now)])
            return try db.queryFirst("SELECT name, owner, expires_at FROM leases WHERE name = ?", [name]) {
                NamedLease(name: $0.text(0), owner: $0.text(1), expiresAt: $0.text(2))
            }!
        }
    }

    @discardableResult
    public func releaseLease(name: String, owner: String) throws -> Bool {
        try db.run("DELETE FROM leases WHERE name = ? AND owner = ?", [name, owner]) == 1
    }
}
