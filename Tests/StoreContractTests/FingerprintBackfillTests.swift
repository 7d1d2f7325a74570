import AssetDedupCore
import SQLiteStore
import Foundation
import PerceptualHash
import PostgresTestSupport
import Testing

@Suite struct FingerprintBackfillTests {
    struct Unreadable: Error {}

    @Test(arguments: Backend.available) func fingerprintsWhatIsMissingReportsFailuresAndResumes(_ backend: Backend)
        throws
    {
        try withStore(backend) { t in
            let store = t.store
            let alice = try store.addUser(name: "alice")
            let ids = try (1...5).map {
                try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(UInt8($0)), size: 1))
            }
            try store.saveFingerprint(.unavailable(reason: "done before"), asset: ids[0])
            var lines: [FingerprintBackfillJob.Progress] = []
            // A run that fails on asset 4's blob, as a missing or unreachable blob would.
            let first = FingerprintBackfillJob(store: store, batchSize: 2) { row in
                if row.assetID == ids[3] { throw Unreadable() }
                return row.assetID == ids[2]
                    ? .unavailable(reason: "not an image or video")
                    : .fingerprint(.image(PerceptualHash64(bits: UInt64(row.assetID.rawValue))))
            }
            let summary = try first.run { lines.append($0) }
            #expect(lines.map(\.done) == [2, 4])
            #expect(summary.total == 4 && summary.images == 2 && summary.none == 1)
            #expect(Array(summary.failed.keys) == [ids[3]])
            #expect(
                try store.fingerprint(asset: ids[1])
                    == .fingerprint(.image(PerceptualHash64(bits: UInt64(ids[1].rawValue)))))
            // The next run picks only what is still missing.
            var seen: [AssetID] = []
            let second = try FingerprintBackfillJob(store: store, batchSize: 100) { row in
                seen.append(row.assetID)
                return .unavailable(reason: "x")
            }.run()
            #expect(seen == [ids[3]] && second.done == 1 && second.failed.isEmpty)
            #expect(try store.unfingerprintedAssetCount() == 0)
        }
    }
}
