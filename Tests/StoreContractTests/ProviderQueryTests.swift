import AssetDedupCore
import SQLiteStore
import Foundation
import PostgresTestSupport
import Testing

/// The queries behind `sync` and `whereis`.
@Suite struct ProviderQueryTests {
    let runway = try! ProviderID(parsing: "runway")
    let pixverse = try! ProviderID(parsing: "pixverse")

    @Test(arguments: Backend.available) func missingOnProviderIsKeysetPaginatedAndScoped(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            var ids: [AssetID] = []
            for seed in UInt8(1)...5 {
                ids.append(
                    try store.insertAsset(
                        NewAsset(userID: seed == 4 ? bob.id : alice.id, sha256: digest(seed), size: Int64(seed) * 10)))
            }
            try store.insertAsset(NewAsset(userID: alice.id, sha256: nil, size: 99))  // legacy: never synced
            try store.recordUpload(asset: ids[1], provider: runway, providerAssetID: "r-2")
            try store.recordUpload(asset: ids[2], provider: pixverse, providerAssetID: "p-3")

            let first = try store.assetsMissing(on: runway, user: nil, after: nil, limit: 2)
            #expect(first.map(\.id) == [ids[0], ids[2]])
            // A row recorded meanwhile drops out; the page after the last id continues.
            try store.recordUpload(asset: ids[3], provider: runway, providerAssetID: "r-4")
            let second = try store.assetsMissing(on: runway, user: nil, after: first.last?.id, limit: 2)
            #expect(second.map(\.id) == [ids[4]])
            #expect(try store.assetsMissing(on: runway, user: nil, after: second.last?.id, limit: 2).isEmpty)

            #expect(try store.assetsMissing(on: runway, user: bob.id, after: nil, limit: 10).isEmpty)
            #expect(try store.assetsMissing(on: pixverse, user: bob.id, after: nil, limit: 10).map(\.id) == [ids[3]])
            #expect(try store.countMissing(on: runway, user: nil) == MissingOnProvider(count: 3, bytes: 10 + 30 + 50))
            #expect(
                try store.countMissing(on: pixverse, user: alice.id) == MissingOnProvider(count: 3, bytes: 10 + 20 + 50)
            )
            #expect(try store.countUnhashed(user: nil) == 1 && store.countUnhashed(user: bob.id) == 0)
            #expect(try store.providerAssetID(of: ids[1], on: runway) == "r-2")
            #expect(try store.providerAssetID(of: ids[1], on: pixverse) == nil)
        }
    }

    @Test(arguments: Backend.available) func whereisFindsEveryUsersCopyWithItsRecords(_ backend: Backend) throws {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(7), size: 1))
            let b = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(7), size: 1))
            try store.recordUpload(asset: a, provider: runway, providerAssetID: "r-1")
            try store.recordUpload(asset: a, provider: pixverse, providerAssetID: "p-1")
            #expect(try store.assets(sha256: digest(7), user: nil).map(\.id) == [a, b])
            #expect(try store.assets(sha256: digest(7), user: bob.id).map(\.id) == [b])
            #expect(try store.assets(sha256: digest(8), user: nil).isEmpty)
            #expect(try store.anyUsersAsset(id: b)?.userID == bob.id)
            let records = try store.uploadRecords(of: a)
            #expect(records.map(\.providerID) == [pixverse, runway])
            #expect(records.map(\.providerAssetID) == ["p-1", "r-1"])
            #expect(records.allSatisfy { $0.uploadedAt.hasSuffix("Z") })
        }
    }
}
