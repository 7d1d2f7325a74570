import AssetDedupCore
import AssetStore
import Foundation
import Testing

/// Upload claims: what keeps an API upload and a `sync` from both sending one file.
@Suite struct UploadClaimTests {
    let runway = try! ProviderID(parsing: "runway")
    let pixverse = try! ProviderID(parsing: "pixverse")

    func oneAsset(_ store: SQLiteStore) throws -> AssetID {
        let alice = try store.addUser(name: "alice")
        return try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
    }

    @Test func secondClaimerSeesTheFirst() throws {
        try withTemporaryDatabase { store, _ in
            let asset = try oneAsset(store)
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "api pid 1", staleAfter: 60) == .claimed)
            let second = try store.claimUpload(asset: asset, provider: runway, owner: "sync pid 2", staleAfter: 60)
            guard case .claimedElsewhere(let by, let since) = second else {
                Issue.record("expected claimedElsewhere, got \(second)")
                return
            }
            #expect(by == "api pid 1" && since.hasSuffix("Z"))
            // Another provider is another claim; the same owner gets its own claim back.
            #expect(
                try store.claimUpload(asset: asset, provider: pixverse, owner: "sync pid 2", staleAfter: 60) == .claimed
            )
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "api pid 1", staleAfter: 60) == .claimed)
        }
    }

    @Test func staleClaimIsTakenOver() throws {
        try withTemporaryDatabase { store, _ in
            let asset = try oneAsset(store)
            // What a `kill -9` leaves behind: a claim nobody will ever complete.
            try store.db.run(
                "INSERT INTO provider_upload_claims VALUES (?, 'runway', 'api pid 999', '2026-01-01T00:00:00.000Z')",
                [asset.rawValue])
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "sync pid 2", staleAfter: 60) == .claimed)
            #expect(try store.uploadClaim(asset: asset, provider: runway)?.by == "sync pid 2")
        }
    }

    @Test func recordClearsTheClaimAndLaterClaimsSeeTheRow() throws {
        try withTemporaryDatabase { store, _ in
            let asset = try oneAsset(store)
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "api pid 1", staleAfter: 60) == .claimed)
            try store.recordUpload(asset: asset, provider: runway, providerAssetID: "r-1")
            #expect(try store.uploadClaim(asset: asset, provider: runway) == nil)
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "sync pid 2", staleAfter: 60)
                    == .alreadyUploaded(providerAssetID: "r-1"))
            #expect(try store.uploadClaim(asset: asset, provider: runway) == nil)
        }
    }

    @Test func releaseClearsTheClaim() throws {
        try withTemporaryDatabase { store, _ in
            let asset = try oneAsset(store)
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "api pid 1", staleAfter: 60) == .claimed)
            try store.releaseClaim(asset: asset, provider: runway)
            #expect(try store.uploadClaim(asset: asset, provider: runway) == nil)
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "sync pid 2", staleAfter: 60) == .claimed)
        }
    }

    @Test func claimsGoWithTheirAsset() throws {
        try withTemporaryDatabase { store, _ in
            let asset = try oneAsset(store)
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "api pid 1", staleAfter: 60) == .claimed)
            try store.db.execute("PRAGMA foreign_keys = ON")
            try store.db.run("DELETE FROM assets WHERE id = ?", [asset.rawValue])
            #expect(try store.db.queryFirst("SELECT count(*) FROM provider_upload_claims") { $0.int(0) } == 0)
        }
    }

    @Test func migrationSevenGoesDownAndUpCleanly() throws {
        try withTemporaryDatabase { store, _ in
            let asset = try oneAsset(store)
            #expect(
                try store.claimUpload(asset: asset, provider: runway, owner: "api pid 1", staleAfter: 60) == .claimed)
            let migrator = try Migrator(db: store.db)
            #expect(try migrator.down(to: 6).last == 7, "later migrations go first, then 7")
            #expect(try !store.db.tableExists("provider_upload_claims"))
            #expect(try store.schemaVersion() == 6)
            try migrator.up()
            #expect(try store.db.tableExists("provider_upload_claims"))
            #expect(try store.uploadClaim(asset: asset, provider: runway) == nil)
            #expect(try store.schemaVersion() == MigrationPlan.latestVersion)
        }
    }
}

extension UploadClaimTests {
    @Test func aSyncDropsClaimsLeftByAKilledSyncOnly() throws {
        try withTemporaryDatabase { store, _ in
            let alice = try store.addUser(name: "alice")
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            let b = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(2), size: 10))
            _ = try store.claimUpload(asset: a, provider: runway, owner: "sync pid 7", staleAfter: 60)
            _ = try store.claimUpload(asset: b, provider: runway, owner: "api pid 8", staleAfter: 60)
            _ = try store.claimUpload(asset: a, provider: pixverse, owner: "sync pid 9", staleAfter: 60)
            #expect(try store.releaseClaims(on: runway, ownerPrefix: "sync ") == 1)
            #expect(try store.uploadClaim(asset: a, provider: runway) == nil)
            #expect(try store.uploadClaim(asset: b, provider: runway)?.by == "api pid 8")
            #expect(try store.uploadClaim(asset: a, provider: pixverse)?.by == "sync pid 9")
        }
    }
}
