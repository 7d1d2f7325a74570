import AssetDedupCore
import SQLiteStore
import Foundation
import PostgresStore
import PostgresTestSupport
import Synchronization
import Testing

/// The shared store SQL (`SQLStore`) on PostgreSQL, migrated by `PostgresMigrations.plan`.
@Suite("SQLStore on PostgreSQL", .enabled(if: !TestCluster.isSkipped))
struct PostgresStoreTests {
    let pixverse = try! ProviderID(parsing: "pixverse")

    func digest(_ seed: UInt8) -> SHA256Digest { SHA256Digest(bytes: [UInt8](repeating: seed, count: 32)) }

    func withStore<T>(_ body: (SQLStore<PostgresConnection>, String) throws -> T) throws -> T {
        try TestCluster.withSchema { url in
            let store = SQLStore(db: try PostgresConnection(url: url))
            try Migrator(db: store.db).up()
            return try body(store, url)
        }
    }

    @Test("users, per-user dedup, duplicates refused, uploads recorded once")
    func assets() throws {
        try withStore { store, _ in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob", isAdmin: true)
            #expect(throws: StoreError.userExists("alice")) { try store.addUser(name: "alice") }
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            let b = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 1))
            #expect(a != b)
            #expect(throws: StoreError.duplicateAsset(user: alice.id, sha256: digest(1))) {
                try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            }
            #expect(try store.findAsset(user: alice.id, sha256: digest(1))?.id == a)
            #expect(try store.asset(id: b, user: alice.id) == nil)
            #expect(try store.recordUpload(asset: a, provider: pixverse, providerAssetID: "first"))
            #expect(try !store.recordUpload(asset: a, provider: pixverse, providerAssetID: "second"))
            #expect(try store.uploads(of: a) == [pixverse: "first"])
            #expect(try store.user(named: "bob")?.isAdmin == true)
        }
    }

    @Test("migration status reads inside a read-only snapshot (what the report does)")
    func migrationStatusInSnapshot() throws {
        try withStore { store, _ in
            let status = try store.readSnapshot { try store.migrationStatus() }
            #expect(!status.isEmpty)
            #expect(status.allSatisfy { if case .applied = $0.state { true } else { false } })
        }
    }

    @Test("tokens: issued, authenticated, revoked")
    func tokens() throws {
        try withStore { store, _ in
            let alice = try store.addUser(name: "alice")
            let (token, secret) = try store.issueToken(for: alice.id, label: "ci")
            #expect(try store.authenticate(token: secret)?.userID == alice.id)
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            try store.recordUpload(asset: a, provider: pixverse, providerAssetID: "p1")
            let found = try #require(try store.presence(token: secret, sha256: digest(1)))
            #expect(found.user == (try store.authenticate(token: secret)))
            #expect(found.asset == (try store.assetPresence(user: alice.id, sha256: digest(1))))
            #expect(try store.presence(token: secret, sha256: digest(2)).map { $0.asset == nil } == true)
            try store.revokeToken(id: token.id)
            #expect(try store.authenticate(token: secret) == nil)
            #expect(try store.presence(token: secret, sha256: digest(1)) == nil)
        }
    }

    @Test("eight connections racing to create the same assets end with one row each")
    func racingFindOrCreate() throws {
        try withStore { store, url in
            let alice = try store.addUser(name: "alice")
            let failures = Mutex<[String]>([])
            let created = Mutex<[Int: Int]>([:])
            DispatchQueue.concurrentPerform(iterations: 8) { worker in
                do {
                    let mine = SQLStore(db: try PostgresConnection(url: url))
                    for round in 0..<20 {
                        let outcome = try mine.findOrCreateAsset(
                            NewAsset(userID: alice.id, sha256: digest(UInt8(round)), size: Int64(worker)))
                        if outcome.created { created.withLock { $0[round, default: 0] += 1 } }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            #expect(try store.db.queryFirst("SELECT count(*) FROM assets", cached: false) { $0.int(0) } == 20)
            #expect(created.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, 1) }))
        }
    }

    @Test("provider coverage and delivery queue queries")
    func providersAndDeliveries() throws {
        try withStore { store, _ in
            let alice = try store.addUser(name: "alice")
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            _ = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(2), size: 5))
            #expect(try store.countMissing(on: pixverse) == MissingOnProvider(count: 2, bytes: 15))
            #expect(try store.countMissing(on: pixverse, user: alice.id).count == 2)
            #expect(try store.countUnhashed() == 0)
            #expect(try store.assetsMissing(on: pixverse, after: nil, limit: 10).count == 2)
            #expect(try store.assets(sha256: digest(1)).map(\.id) == [a])
            #expect(try store.assets(sha256: digest(1), user: alice.id).map(\.id) == [a])
            _ = try store.enqueueDelivery(asset: a, provider: pixverse)
            let leased = try store.leaseNextDelivery(owner: "w1", leaseSeconds: [pixverse: 30])
            #expect(leased?.assetID == a)
            _ = try store.storeTotals()
        }
    }

    @Test("resumable upload sessions: bytea hash state, the append lock, completion, expiry")
    func uploadSessions() throws {
        try withStore { store, _ in
            let alice = try store.addUser(name: "alice")
            let state: [UInt8] = [0, 1, 2, 0x5c, 0xff]
            try store.createUploadSession(
                UploadSession(id: "u1", userID: alice.id, providerID: pixverse, length: nil, hashState: state),
                lockOwner: "req-1")
            #expect(try store.uploadSession(id: "u1", user: alice.id)?.hashState == state)
            let held = try store.lockUploadSession(
                id: "u1", user: alice.id, owner: "req-2", staleAfter: 3600, isOwnerAlive: { _ in nil })
            guard case .held(owner: "req-1", _) = held else {
                Issue.record("expected the lock held by req-1, got \(held)")
                return
            }
            #expect(try store.recordAppend(id: "u1", owner: "req-1", offset: 5, hashState: [9, 9], length: 10))
            let locked = try store.lockUploadSession(
                id: "u1", user: alice.id, owner: "req-3", staleAfter: 3600, isOwnerAlive: { _ in nil })
            guard case .locked(let session) = locked else {
                Issue.record("expected the lock, got \(locked)")
                return
            }
            #expect(session.offset == 5 && session.length == 10 && session.hashState == [9, 9])
            #expect(try store.recordCompletion(id: "u1", owner: "req-3", offset: 10, hashState: [], sha256: digest(7)))
            let done = try #require(try store.uploadSession(id: "u1", user: alice.id))
            #expect(done.isComplete && done.sha256 == digest(7) && done.hashState == [])
            #expect(try store.expiredUploadSessions(olderThanSeconds: 3600) == [])
            #expect(try store.partialUploadTotals().count >= 0)
        }
    }
}
