import AssetDedupCore
import BlobProtocols
import Foundation
import StoreProtocols

/// One run of blob garbage collection: mark orphans, sweep marks a grace period old, drop
/// leftover partial uploads and abandoned writes. The store decides what is safe to delete
/// (`BlobCollection`); this only walks the blob storage and calls it in order.
public struct BlobCollector {
    /// What a run did (or, in a dry run, would do).
    public struct Summary: Equatable, Sendable {
        public var blobsSeen = 0
        public var bytesSeen: Int64 = 0
        public var referenced = 0
        public var young = 0
        public var orphans = 0
        public var newlyMarked = 0
        public var deleted = 0
        public var deletedBytes: Int64 = 0
        /// Marks not taken: an upload claimed the blob, or it is referenced again.
        public var kept = 0
        public var partialsRemoved = 0
        public var abandonedWrites = 0
        public var abandonedBytes: Int64 = 0

        public init() {}
    }

    let store: any BlobCollection & UploadSessionStore
    let blobs: any CollectableBlobs & PartialUploads
    let graceSeconds: Double
    let dryRun: Bool

    /// `graceSeconds`: blobs younger than this are left alone, and a mark must be this old
    /// before its blob goes. `dryRun`: count what would be done, write nothing.
    public init(
        store: any BlobCollection & UploadSessionStore, blobs: any CollectableBlobs & PartialUploads,
        graceSeconds: Double, dryRun: Bool
    ) {
        self.store = store
        self.blobs = blobs
        self.graceSeconds = graceSeconds
        self.dryRun = dryRun
    }
    /// Partial uploads and temp files are never judged younger than this, even at grace 0: a
    /// resumable upload writes its partial file just before its row.
    public static let minimumPartialAgeSeconds = 3600.0

    /// Runs the three steps. A failed blob delete throws `GCError` with the summary so far.
    public func run(now: () -> Date = Date.init) throws -> Summary {
        var summary = Summary()
        var unmarked: [SHA256Digest: Int64] = [:]
        try markOrphans(&summary, unmarked: &unmarked, now: now())
        try sweepMarks(&summary, unmarked: unmarked, now: now)
        try sweepPartials(&summary)
        return summary
    }

    /// Step 1: every blob older than the grace period that nothing references gets a mark.
    /// A dry run writes no marks; it keeps the orphans it found in `unmarked` instead.
    func markOrphans(_ summary: inout Summary, unmarked: inout [SHA256Digest: Int64], now: Date) throws {
        let cutoff = now.timeIntervalSince1970 - graceSeconds
        try blobs.forEachBlob { blob in
            summary.blobsSeen += 1
            summary.bytesSeen += blob.size
            guard blob.modified <= cutoff else {
                summary.young += 1
                return
            }
            guard try !store.isBlobReferenced(sha256: blob.digest) else {
                summary.referenced += 1
                return
            }
            summary.orphans += 1
            if dryRun {
                unmarked[blob.digest] = blob.size
            } else if try store.markOrphan(sha256: blob.digest, size: blob.size, now: now) {
                summary.newlyMarked += 1
            }
        }
    }

    /// Step 2: marks a grace period old (and 'deleting' ones a dead gc left) are taken, their
    /// blobs deleted, the marks finished. A failed delete drops the mark (a delete is atomic:
    /// the blob is whole or gone, and an upload's commit copes with either) and stops the run.
    /// A dry run counts what it would take: the marks old enough, and at grace 0 the orphans
    /// step 1 would have marked.
    func sweepMarks(_ summary: inout Summary, unmarked: [SHA256Digest: Int64], now: () -> Date) throws {
        let cutoff = now().addingTimeInterval(-graceSeconds)
        let marks = try store.collectableMarks(markedBefore: cutoff)
        if dryRun {
            var doomed = graceSeconds == 0 ? unmarked : [:]
            for mark in marks {
                if try store.isBlobReferenced(sha256: mark.sha256) {
                    summary.kept += 1
                    doomed[mark.sha256] = nil
                } else {
                    doomed[mark.sha256] = mark.size
                }
            }
            summary.deleted = doomed.count
            summary.deletedBytes = doomed.values.reduce(0, +)
            return
        }
        for mark in marks {
            guard try store.takeForDeletion(sha256: mark.sha256, markedBefore: cutoff, now: now()) else {
                summary.kept += 1
                continue
            }
            do {
                try blobs.deleteBlob(mark.sha256)
            } catch {
                try? store.finishDeletion(sha256: mark.sha256)
                throw GCError(summary: summary, reason: "deleting blob \(mark.sha256.hex) failed: \(error)")
            }
            try store.finishDeletion(sha256: mark.sha256)
            summary.deleted += 1
            summary.deletedBytes += mark.size
        }
    }

    /// Step 3: partial files whose upload row is gone, and temp files a crashed writer left.
    func sweepPartials(_ summary: inout Summary) throws {
        let age = max(graceSeconds, Self.minimumPartialAgeSeconds)
        for id in try blobs.stalePartialUploads(olderThanSeconds: age) where try !store.uploadSessionExists(id: id) {
            if dryRun || blobs.removePartial(upload: id) { summary.partialsRemoved += 1 }
        }
        let abandoned = try blobs.sweepAbandonedWrites(olderThanSeconds: age, dryRun: dryRun)
        summary.abandonedWrites = abandoned.count
        summary.abandonedBytes = abandoned.bytes
    }

    /// The summary as plain lines, one figure each.
    public static func lines(_ s: Summary, dryRun: Bool, grace: Double) -> [String] {
        let would = dryRun ? "would be " : ""
        var lines = [
            "gc\(dryRun ? " (dry run, nothing changed)" : ""): grace period \(Self.hours(grace)) h",
            "blobs seen: \(s.blobsSeen) (\(s.bytesSeen) bytes)",
            "referenced by an asset or upload: \(s.referenced)",
            "younger than the grace period: \(s.young)",
            "orphans found: \(s.orphans)" + (dryRun ? "" : " (newly marked: \(s.newlyMarked))"),
            "blobs \(would)deleted: \(s.deleted) (\(s.deletedBytes) bytes)",
            "marks kept (claimed by an upload or referenced again): \(s.kept)",
            "partial uploads \(would)removed: \(s.partialsRemoved)",
            "abandoned writes \(would)removed: \(s.abandonedWrites) (\(s.abandonedBytes) bytes)",
        ]
        if !dryRun && s.newlyMarked > 0 && grace > 0 {
            lines.append("note: marked orphans are deleted by a gc run at least \(Self.hours(grace)) h from now")
        }
        return lines
    }

    static func hours(_ seconds: Double) -> String {
        let hours = seconds / 3600
        return hours == hours.rounded() ? String(Int(hours)) : String(hours)
    }
}

/// A gc run that stopped part-way: what it had done, and why it stopped.
public struct GCError: Error, CustomStringConvertible {
    public let summary: BlobCollector.Summary
    public let reason: String
    public var description: String { reason }
}
