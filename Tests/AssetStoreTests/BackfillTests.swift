import AssetDedupCore
import BlobProtocols
import BlobStore
import Foundation
import SQLiteStore
import Testing

@Suite struct BackfillTests {
    /// Seeds a legacy database whose rows point at real files, some with identical content.
    func seed(_ store: SQLiteStore, files dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir + "/legacy", withIntermediateDirectories: true)
        let contents = ["1": "same bytes", "2": "same bytes", "3": "other", "4": "same bytes", "5": "lonely"]
        for (name, text) in contents {
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(dir)/legacy/\(name).bin"))
        }
        try store.db.execute(
            """
            INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob');
            INSERT INTO assets (id, user_id, sha256, size, original_filename, storage_path, created_at, last_accessed_at) VALUES
              (1, 1, NULL, 0, 'a.png', 'legacy/1.bin', '2024-01-05T00:00:00Z', NULL),
              (2, 1, NULL, 0, 'a-copy.png', 'legacy/2.bin', '2024-01-01T00:00:00Z', '2024-09-09T00:00:00Z'),
              (3, 1, NULL, 0, 'b.png', 'legacy/3.bin', '2024-01-02T00:00:00Z', NULL),
              (4, 2, NULL, 0, 'bobs.png', 'legacy/4.bin', '2024-01-03T00:00:00Z', NULL),
              (5, 2, NULL, 0, 'gone.png', 'legacy/missing.bin', '2024-01-04T00:00:00Z', NULL);
            INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id, uploaded_at) VALUES
              (1, 'pixverse', 'pv-1', '2024-01-05T00:00:00Z'),
              (1, 'runway', 'rw-1', '2024-01-05T00:00:00Z'),
              (2, 'pixverse', 'pv-2', '2024-01-01T00:00:00Z'),
              (4, 'pixverse', 'pv-4', '2024-01-03T00:00:00Z');
            """)
    }

    @Test func mergesSameUserDuplicatesAndLosesNoProviderUpload() throws {
        try withTemporaryDatabase { store, dir in
            try seed(store, files: dir)
            let blobs = try BlobStore(dataDirectory: dir + "/data")
            let job = BackfillJob(store: store) { row in try blobs.ingest(existingFile: "\(dir)/\(row.storagePath!)") }
            var lines = 0
            let summary = try job.run { _ in lines += 1 }
            #expect(summary.hashed == 3 && summary.merged == 1)
            #expect(summary.failed.map(\.0) == [AssetID(5)], "the row with a missing file is reported, not dropped")
            #expect(lines == 5)

            let same = try LocalFiles.sha256(ofFile: dir + "/legacy/1.bin").digest
            // Row 2 is older than row 1, so 2 is kept and 1 is folded into it.
            let kept = try #require(try store.findAsset(user: UserID(1), sha256: same))
            #expect(kept.id == AssetID(2))
            #expect(kept.size == 10)
            #expect(kept.uploads.mapKeys() == ["pixverse": "pv-2", "runway": "rw-1"])
            #expect(kept.lastAccessedAt == "2024-09-09T00:00:00Z")
            // The losing pixverse id of row 1 is kept in the merge record: nothing is lost.
            let merge = try store.db.queryFirst(
                "SELECT kept_asset_id, merged_asset_id, merged_providers, source FROM asset_merges", cached: false
            ) { "\($0.int(0)) \($0.int(1)) \($0.text(2)) \($0.text(3))" }
            #expect(merge == #"2 1 {"pixverse":"pv-1","runway":"rw-1"} backfill"#)
            // Bob's identical file stays his own asset.
            #expect(try store.findAsset(user: UserID(2), sha256: same)?.uploads.mapKeys() == ["pixverse": "pv-4"])
            #expect(blobs.contains(same))
            #expect(try store.unhashedAssetCount() == 1)

            // A second run only retries what is left, and merges nothing twice.
            let again = try job.run()
            #expect(again.hashed == 0 && again.merged == 0 && again.failed.count == 1)
        }
    }

    @Test func resumesWhereAnInterruptedRunStopped() throws {
        try withTemporaryDatabase { store, dir in
            try seed(store, files: dir)
            let blobs = try BlobStore(dataDirectory: dir + "/data")
            // The first run "dies" after two rows: every row it finished is committed.
            struct Killed: Error {}
            var seen = 0
            let dying = BackfillJob(store: store) { row in
                seen += 1
                if seen > 2 { throw Killed() }
                return try blobs.ingest(existingFile: "\(dir)/\(row.storagePath!)")
            }
            _ = try dying.run()
            #expect(try store.unhashedAssetCount() == 3)
            let resumed = try BackfillJob(store: store) { row in
                try blobs.ingest(existingFile: "\(dir)/\(row.storagePath!)")
            }.run()
            #expect(resumed.hashed + resumed.merged == 2)
            #expect(try store.unhashedAssetCount() == 1)
            #expect(
                try store.db.queryFirst("SELECT count(*) FROM provider_uploads", cached: false) { $0.int(0) } == 3,
                "1 folded into 2: pixverse of 1 kept in asset_merges only")
        }
    }
}
