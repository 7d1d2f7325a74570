import AssetDedupCore
import SQLiteStore
import Foundation
import PerceptualHash
import PostgresTestSupport
import Testing

/// `MediaFingerprints` as every backend must pass it: SQLite and PostgreSQL run the same checks.
@Suite("Fingerprint store on both backends")
struct FingerprintStoreTests {
    func withStore(_ backend: Backend, _ body: (any AssetDedupStore) throws -> Void) throws {
        try PostgresTestSupport.withStore(backend) { try body($0.store) }
    }

    /// The same, with a way to run raw SQL on the store's connection.
    func withStore(_ backend: Backend, _ body: (any AssetDedupStore, (String) throws -> Void) throws -> Void) throws {
        try PostgresTestSupport.withStore(backend) { t in try body(t.store) { try t.run($0) } }
    }

    func digest(_ n: Int) -> SHA256Digest {
        var bytes = [UInt8](repeating: 0, count: 32)
        withUnsafeBytes(of: UInt64(n).bigEndian) { bytes.replaceSubrange(24..<32, with: $0) }
        return SHA256Digest(bytes: bytes)
    }

    /// `hash` with `bits` bits flipped, spread over the four substrings.
    func flip(_ hash: UInt64, _ bits: Int) -> PerceptualHash64 {
        var value = hash
        for i in 0..<bits { value ^= 1 << UInt64((i % 4) * 16 + i / 4) }
        return PerceptualHash64(bits: value)
    }

    @Test("an outcome is saved, read back and replaced; a missing asset saves nothing", arguments: Backend.available)
    func roundTrip(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let a = try store.insertAsset(
                NewAsset(userID: alice.id, sha256: digest(1), size: 1, originalFilename: "a.jpg"))
            #expect(try store.fingerprint(asset: a) == nil)
            let image = FingerprintOutcome.fingerprint(.image(PerceptualHash64(bits: 0xfedc_ba98_7654_3210)))
            #expect(try store.saveFingerprint(image, asset: a))
            #expect(try store.fingerprint(asset: a) == image)
            let frames = (0..<10).map { PerceptualHash64(bits: UInt64.max - UInt64($0)) }
            let video = FingerprintOutcome.fingerprint(.video(frames: frames, durationSeconds: 12.5))
            try store.saveFingerprint(video, asset: a)
            #expect(try store.fingerprint(asset: a) == video)
            try store.saveFingerprint(.unavailable(reason: "not an image or video"), asset: a)
            #expect(try store.fingerprint(asset: a) == .unavailable(reason: "not an image or video"))
            #expect(try !store.saveFingerprint(image, asset: AssetID(999)))
        }
    }

    @Test(
        "search agrees with a brute-force scan, nearest first, only the user's, excluding one",
        arguments: Backend.available)
    func searchMatchesScan(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            var rng = SystemRandomNumberGenerator()
            let query = UInt64.random(in: 0...UInt64.max, using: &rng)
            var stored: [(AssetID, PerceptualHash64)] = []
            // Random hashes, plus planted copies at distances 0...14 (two each).
            for n in 0..<400 {
                let hash =
                    n < 30 ? flip(query, n / 2) : PerceptualHash64(bits: UInt64.random(in: 0...UInt64.max, using: &rng))
                let id = try store.insertAsset(
                    NewAsset(userID: alice.id, sha256: digest(n), size: 1, originalFilename: "a\(n).jpg"))
                try store.saveFingerprint(.fingerprint(.image(hash)), asset: id)
                stored.append((id, hash))
            }
            // Bob holds the query itself: never in Alice's answers.
            let bobs = try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(1), size: 1))
            try store.saveFingerprint(.fingerprint(.image(PerceptualHash64(bits: query))), asset: bobs)
            let q = PerceptualHash64(bits: query)
            for threshold in [0, 3, 7, 10, 12, 16, 24] {
                let expected = stored.compactMap { id, hash in
                    hash.distance(to: q) <= threshold ? (id, hash.distance(to: q)) : nil
                }.sorted { ($0.1, $0.0.rawValue) < ($1.1, $1.0.rawValue) }
                let found = try store.similarAssets(
                    user: alice.id, to: .image(q), threshold: threshold, limit: 1000, excluding: nil)
                #expect(found.map(\.assetID) == expected.map(\.0), "threshold \(threshold)")
                #expect(found.map(\.distance) == expected.map(\.1), "threshold \(threshold)")
                #expect(!found.contains { $0.assetID == bobs })
            }
            let first = stored[0].0
            let limited = try store.similarAssets(
                user: alice.id, to: .image(q), threshold: 10, limit: 3, excluding: first)
            #expect(limited.count == 3)
            #expect(!limited.contains { $0.assetID == first })
            #expect(limited[0] == SimilarAsset(assetID: stored[1].0, distance: 0, originalFilename: "a1.jpg"))
            #expect(
                try store.similarAssets(user: bob.id, to: .image(q), threshold: 10, limit: 20, excluding: nil)
                    .map(\.assetID) == [bobs])
        }
    }

    @Test("videos match on 8 of 10 aligned frames, never an image", arguments: Backend.available)
    func videos(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            var rng = SystemRandomNumberGenerator()
            let original = (0..<10).map { _ in UInt64.random(in: 0...UInt64.max, using: &rng) }
            func save(_ n: Int, _ outcome: FingerprintOutcome) throws -> AssetID {
                let id = try store.insertAsset(
                    NewAsset(userID: alice.id, sha256: digest(n), size: 1, originalFilename: "v\(n)"))
                try store.saveFingerprint(outcome, asset: id)
                return id
            }
            func video(_ frames: [PerceptualHash64]) -> FingerprintOutcome {
                .fingerprint(.video(frames: frames, durationSeconds: 10))
            }
            // Frames 0-1 (the first ones the lookup probes) far off, the other 8 within 3 bits.
            let eightOfTen = try save(1, video(original.enumerated().map { i, h in i < 2 ? flip(~h, 0) : flip(h, 3) }))
            let sevenOfTen = try save(2, video(original.enumerated().map { i, h in i < 3 ? flip(~h, 0) : flip(h, 1) }))
            _ = try save(3, .fingerprint(.image(PerceptualHash64(bits: original[0]))))
            _ = try save(4, .unavailable(reason: "no decoder"))
            let query = MediaFingerprint.video(frames: original.map(PerceptualHash64.init(bits:)), durationSeconds: 10)
            let found = try store.similarAssets(user: alice.id, to: query, threshold: 10, limit: 20, excluding: nil)
            #expect(found == [SimilarAsset(assetID: eightOfTen, distance: 3, originalFilename: "v1")])
            #expect(!found.contains { $0.assetID == sevenOfTen })
        }
    }

    @Test(
        "the backfill cursor lists hashed assets without a row; deleting an asset drops its rows",
        arguments: Backend.available)
    func cursor(_ backend: Backend) throws {
        try withStore(backend) { store, sql in
            let alice = try store.addUser(name: "alice")
            let a = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 1))
            let b = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(2), size: 1))
            _ = try store.insertAsset(NewAsset(userID: alice.id, sha256: nil, size: 1))
            let c = try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(3), size: 1))
            try store.saveFingerprint(.unavailable(reason: "x"), asset: b)
            #expect(try store.unfingerprintedAssetCount() == 2)
            #expect(
                try store.unfingerprintedAssets(after: nil, limit: 10) == [
                    UnfingerprintedAsset(assetID: a, sha256: digest(1)),
                    UnfingerprintedAsset(assetID: c, sha256: digest(3)),
                ])
            #expect(try store.unfingerprintedAssets(after: a, limit: 10).map(\.assetID) == [c])
            try store.saveFingerprint(.fingerprint(.image(PerceptualHash64(bits: 7))), asset: c)
            try sql("DELETE FROM assets WHERE id = \(c.rawValue)")
            #expect(try store.fingerprint(asset: c) == nil)
        }
    }
}
