import AssetDedupCore
import SQLiteStore
import Foundation
import PostgresTestSupport
import Testing

@Suite struct AssetQueryTests {
    let pixverse = try! ProviderID(parsing: "pixverse")

    @Test(arguments: Backend.available) func twoUsersMayHoldTheSameHash(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            let b = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 1))
            #expect(a != b)
            // Each sees only their own; the other's asset id is "not found", not a hint.
            #expect(try store.findAsset(user: alice.id, sha256: digest(1))?.id == a)
            #expect(try store.findAsset(user: bob.id, sha256: digest(1))?.id == b)
            #expect(try store.asset(id: b, user: alice.id) == nil)
        }
    }

    @Test(arguments: Backend.available) func theSameUserMayNotHoldItTwice(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            #expect(throws: StoreError.duplicateAsset(user: alice.id, sha256: digest(1))) {
                try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            }
            // Rows without a hash (legacy) are not constrained.
            try store.insertAsset(NewAsset(userID: alice.id, sha256: nil, size: 1))
            try store.insertAsset(NewAsset(userID: alice.id, sha256: nil, size: 1))
        }
    }

    @Test(arguments: Backend.available) func findOrCreateReturnsTheExistingRow(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let first = try store.findOrCreateAsset(NewAsset(userID: alice.id, sha256: digest(2), size: 3))
            let second = try store.findOrCreateAsset(NewAsset(userID: alice.id, sha256: digest(2), size: 3))
            #expect(first.created && !second.created)
            #expect(first.asset.id == second.asset.id)
        }
    }

    @Test(arguments: Backend.available) func concurrentConnectionsInsertingOneContentEndWithOneRow(_ backend: Backend)
        throws
    {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let results = Results()
            // Eight threads, each with its own connection, race to create the same asset 20 times.
            DispatchQueue.concurrentPerform(iterations: 8) { worker in
                do {
                    let mine = try t.connect()
                    for round in 0..<20 {
                        let outcome = try mine.findOrCreateAsset(
                            NewAsset(userID: alice.id, sha256: digest(UInt8(round)), size: Int64(worker)))
                        results.add(round: round, id: outcome.asset.id, created: outcome.created)
                    }
                } catch {
                    results.fail("\(error)")
                }
            }
            #expect(results.errors.isEmpty)
            #expect(try t.integer("SELECT count(*) FROM assets") == 20)
            for round in 0..<20 {
                #expect(results.ids(round: round).count == 1, "every caller got the same asset id")
                #expect(results.created(round: round) == 1, "exactly one caller created it")
            }
        }
    }

    @Test(arguments: Backend.available) func uploadsAreRecordedOncePerProvider(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let id = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            #expect(try store.recordUpload(asset: id, provider: pixverse, providerAssetID: "first"))
            #expect(try !store.recordUpload(asset: id, provider: pixverse, providerAssetID: "second"))
            #expect(try store.uploads(of: id) == [pixverse: "first"])
        }
    }

    @Test(arguments: Backend.available) func listIsKeysetPaginatedAndScopedToTheUser(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            for seed in 1...5 {
                try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(UInt8(seed)), size: 1))
            }
            try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(9), size: 1))
            let page1 = try store.listAssets(user: alice.id, after: nil, limit: 2)
            let page2 = try store.listAssets(user: alice.id, after: page1.last?.id, limit: 2)
            let page3 = try store.listAssets(user: alice.id, after: page2.last?.id, limit: 2)
            #expect(page1.count == 2 && page2.count == 2 && page3.count == 1)
            #expect(Set((page1 + page2 + page3).map(\.userID)) == [alice.id])
        }
    }

    @Test(arguments: Backend.available) func tokensAreStoredOnlyAsHashesAndRevocable(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice", isAdmin: true)
            let (token, secret) = try store.issueToken(for: alice.id, label: "laptop")
            #expect(secret.hasPrefix("adt_") && secret.count == 68)
            let secretText = "%" + secret.dropFirst(4) + "%"
            #expect(try t.integer("SELECT count(*) FROM api_tokens") == 1)
            #expect(
                try t.integer(
                    "SELECT count(*) FROM api_tokens WHERE token_sha256 LIKE ? OR coalesce(label, '') LIKE ?",
                    [secretText, secretText]) == 0, "the secret is never stored")
            #expect(try store.authenticate(token: secret)?.userID == alice.id)
            #expect(try store.authenticate(token: secret)?.isAdmin == true)
            #expect(try store.authenticate(token: secret + "x") == nil)
            try store.revokeToken(id: token.id)
            #expect(try store.authenticate(token: secret) == nil)
            #expect(throws: StoreError.unknownToken(999)) { try store.revokeToken(id: 999) }
        }
    }

    @Test(arguments: Backend.available) func presenceByTokenAnswersLikeAuthenticateThenAssetPresence(_ backend: Backend)
        throws
    {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            let (token, secret) = try store.issueToken(for: alice.id)
            let (_, bobSecret) = try store.issueToken(for: bob.id)
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            try store.recordUpload(asset: a, provider: pixverse, providerAssetID: "p1")
            try store.recordUpload(asset: a, provider: try ProviderID(parsing: "runway"), providerAssetID: "r1")
            let found = try #require(try store.presence(token: secret, sha256: digest(1)))
            #expect(found.user == (try store.authenticate(token: secret)))
            #expect(found.asset == (try store.assetPresence(user: alice.id, sha256: digest(1))))
            #expect(found.asset?.uploadedProviders.count == 2)
            // Another user's content is absent for bob; an unknown hash is absent; a bad token is nil.
            let bobs = try #require(try store.presence(token: bobSecret, sha256: digest(1)))
            #expect(bobs.user.userID == bob.id && bobs.asset == nil)
            #expect(try store.presence(token: secret, sha256: digest(2))?.asset == nil)
            #expect(try store.presence(token: secret + "x", sha256: digest(1)) == nil)
            try store.revokeToken(id: token.id)
            #expect(try store.presence(token: secret, sha256: digest(1)) == nil)
        }
    }

    @Test(arguments: Backend.available) func duplicateAndInvalidUserNamesAreRefused(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            try store.addUser(name: "alice")
            #expect(throws: StoreError.userExists("alice")) { try store.addUser(name: "alice") }
            #expect(throws: ValidationError.self) { try store.addUser(name: "no spaces") }
            #expect(throws: StoreError.unknownUser("zed")) { try store.requireUser(named: "zed") }
        }
    }
}

/// Thread-safe collector for the concurrency test.
final class Results: @unchecked Sendable {  // all state is guarded by `lock`
    private let lock = NSLock()
    private var byRound: [Int: [(AssetID, Bool)]] = [:]
    private(set) var errors: [String] = []

    func add(round: Int, id: AssetID, created: Bool) {
        lock.withLock { byRound[round, default: []].append((id, created)) }
    }
    func fail(_ message: String) { lock.withLock { errors.append(message) } }
    func ids(round: Int) -> Set<AssetID> { lock.withLock { Set(byRound[round, default: []].map(\.0)) } }
    func created(round: Int) -> Int { lock.withLock { byRound[round, default: []].filter(\.1).count } }
}
