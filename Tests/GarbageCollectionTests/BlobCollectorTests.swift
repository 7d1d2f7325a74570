import AssetDedupCore
import SQLiteStore
import BlobStore
import Foundation
import GarbageCollection
import Synchronization
import Testing

/// Blobs in memory, with a delete that can be made to fail: the gc walk without files.
final class MemoryBlobs: BlobStorage {
    struct Unsupported: Error {}
    struct DeleteFailed: Error, CustomStringConvertible {
        var description: String { "the bucket said no" }
    }

    private let state = Mutex<(blobs: [SHA256Digest: StoredBlob], failDeletes: Bool)>(([:], false))

    var location: String { "memory" }
    var digests: Set<SHA256Digest> { state.withLock { Set($0.blobs.keys) } }
    func put(_ digest: SHA256Digest, size: Int64, modified: Double) {
        state.withLock { $0.blobs[digest] = StoredBlob(digest: digest, size: size, modified: modified) }
    }
    func failDeletes() { state.withLock { $0.failDeletes = true } }

    func forEachBlob(_ visit: (StoredBlob) throws -> Void) throws {
        for blob in state.withLock({ $0.blobs.values.sorted { $0.digest.hex < $1.digest.hex } }) { try visit(blob) }
    }
    func deleteBlob(_ digest: SHA256Digest) throws {
        try state.withLock {
            if $0.failDeletes { throw DeleteFailed() }
            $0.blobs[digest] = nil
        }
    }
    func contains(_ digest: SHA256Digest) throws -> Bool { state.withLock { $0.blobs[digest] != nil } }
    func sweepAbandonedWrites(olderThanSeconds: Double, dryRun: Bool) throws -> (count: Int, bytes: Int64) { (0, 0) }
    func stalePartialUploads(olderThanSeconds: Double) throws -> [String] { [] }
    func removePartial(upload id: String) -> Bool { false }
    func hasPartial(upload id: String) throws -> Bool { false }
    func remoteObject(for digest: SHA256Digest) -> BlobObject? { nil }
    func makeTempWriter() throws -> HashingFileWriter { throw Unsupported() }
    func commit(_ writer: HashingFileWriter, as digest: SHA256Digest) throws { throw Unsupported() }
    func withLocalFile<T>(_ digest: SHA256Digest, _ body: (String) throws -> T) throws -> T { throw Unsupported() }
    func createPartial(upload id: String) throws -> any PartialUpload { throw Unsupported() }
    func openPartial(upload id: String, recordedOffset: Int64) throws -> any PartialUpload { throw Unsupported() }
    func commitPartial(upload id: String, as digest: SHA256Digest) throws { throw Unsupported() }
    func copyPartial(upload id: String, length: Int64, into writer: HashingFileWriter) throws { throw Unsupported() }
    func readPrefix(of digest: SHA256Digest, count: Int) throws -> [UInt8] { throw Unsupported() }
}

@Suite struct BlobCollectorTests {
    func digest(_ seed: UInt8) -> SHA256Digest { SHA256Digest(bytes: [UInt8](repeating: seed, count: 32)) }
    let day = 86_400.0
    var now: Double { Date().timeIntervalSince1970 }

    func withStore(_ body: (SQLiteStore) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/t.sqlite")
        try store.migrateUp(to: nil) { _ in }
        try body(store)
    }

    @Test func twoRunsAGracePeriodApartDeleteAnOrphanAndNothingElse() throws {
        try withStore { store in
            let blobs = MemoryBlobs()
            let alice = try store.addUser(name: "alice")
            try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            blobs.put(digest(1), size: 10, modified: now - 2 * day)  // referenced
            blobs.put(digest(2), size: 20, modified: now - 2 * day)  // orphan
            blobs.put(digest(3), size: 30, modified: now - 60)  // young
            let gc = BlobCollector(store: store, blobs: blobs, graceSeconds: day, dryRun: false)
            let first = try gc.run()
            #expect(first.blobsSeen == 3 && first.referenced == 1 && first.young == 1 && first.orphans == 1)
            #expect(first.newlyMarked == 1 && first.deleted == 0 && blobs.digests.count == 3)
            // A day later (as the clock a run reads sees it), the mark is old enough.
            let second = try gc.run(now: { Date().addingTimeInterval(self.day + 1) })
            #expect(second.deleted == 1 && second.deletedBytes == 20)
            #expect(blobs.digests == [digest(1), digest(3)])
            // The young blob is a day older too by then: marked now, deleted a grace period later.
            #expect(second.newlyMarked == 1)
            #expect(
                try store.collectableMarks(markedBefore: Date().addingTimeInterval(day + 1)).map(\.sha256) == [
                    digest(3)
                ])
        }
    }

    @Test func aDryRunCountsWhatARunWouldDoAndWritesNothing() throws {
        try withStore { store in
            let blobs = MemoryBlobs()
            blobs.put(digest(2), size: 20, modified: now - 2 * day)
            blobs.put(digest(4), size: 40, modified: now - 2 * day)
            try store.markOrphan(sha256: digest(4), size: 40, now: Date(timeIntervalSinceNow: -2 * day))
            let dry = try BlobCollector(store: store, blobs: blobs, graceSeconds: day, dryRun: true).run()
            #expect(dry.orphans == 2 && dry.newlyMarked == 0)
            #expect(dry.deleted == 1 && dry.deletedBytes == 40, "only the ripe mark")
            let dryZero = try BlobCollector(store: store, blobs: blobs, graceSeconds: 0, dryRun: true).run()
            #expect(dryZero.deleted == 2 && dryZero.deletedBytes == 60, "at grace 0 the new orphan too, once")
            #expect(blobs.digests.count == 2)
            #expect(try store.orphanSummary().count == 1)
            #expect(try store.collectableMarks(markedBefore: Date()).map(\.state) == [.marked])
        }
    }

    @Test func aFailedDeleteDropsTheMarkStopsAndReportsWhatWasDone() throws {
        try withStore { store in
            let blobs = MemoryBlobs()
            blobs.put(digest(5), size: 50, modified: now - 2 * day)
            try store.markOrphan(sha256: digest(5), size: 50, now: Date(timeIntervalSinceNow: -2 * day))
            blobs.failDeletes()
            let gc = BlobCollector(store: store, blobs: blobs, graceSeconds: day, dryRun: false)
            let error = try #require(throws: GCError.self) { try gc.run() }
            #expect(error.reason.hasPrefix("deleting blob \(digest(5).hex) failed: the bucket said no"))
            #expect(error.summary.blobsSeen == 1 && error.summary.deleted == 0)
            // No 'deleting' row is left to hold uploads of this content for an hour.
            #expect(try store.orphanSummary().count == 0)
            #expect(try store.claimBlobForUpload(sha256: digest(5)) == .free)
        }
    }

    @Test func theSummaryIsPlainLines() {
        var summary = BlobCollector.Summary()
        summary.blobsSeen = 3
        summary.bytesSeen = 60
        summary.orphans = 1
        summary.newlyMarked = 1
        #expect(
            BlobCollector.lines(summary, dryRun: false, grace: 86_400) == [
                "gc: grace period 24 h",
                "blobs seen: 3 (60 bytes)",
                "referenced by an asset or upload: 0",
                "younger than the grace period: 0",
                "orphans found: 1 (newly marked: 1)",
                "blobs deleted: 0 (0 bytes)",
                "marks kept (claimed by an upload or referenced again): 0",
                "partial uploads removed: 0",
                "abandoned writes removed: 0 (0 bytes)",
                "note: marked orphans are deleted by a gc run at least 24 h from now",
            ])
        #expect(
            BlobCollector.lines(summary, dryRun: true, grace: 1800)[0]
                == "gc (dry run, nothing changed): grace period 0.5 h")
    }
}
