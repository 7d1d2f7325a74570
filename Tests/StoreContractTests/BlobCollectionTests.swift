import AssetDedupCore
import SQLiteStore
import Foundation
import PostgresTestSupport
import Testing

/// gc's marks and the uploads' claim (`BlobCollection`), the same checks on SQLite and on
/// PostgreSQL: one generic body, two backends.
@Suite("BlobCollection on SQLite and PostgreSQL")
struct BlobCollectionTests {
    func digest(_ seed: UInt8) -> SHA256Digest { SHA256Digest(bytes: [UInt8](repeating: seed, count: 32)) }
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    var day: TimeInterval { 86_400 }

    func withStore(
        _ backend: Backend,
        _ body: (any BlobCollection & AssetCatalog & UserDirectory & UploadSessionStore) throws -> Void
    ) throws {
        try PostgresTestSupport.withStore(backend) { try body($0.store) }
    }

    @Test("an orphan is marked once; a referenced blob never", arguments: Backend.available)
    func mark(_ backend: Backend) throws {
        try withStore(backend) { store in
            let alice = try store.addUser(name: "alice")
            try store.insertAsset(NewAsset(userID: alice.id, sha256: digest(1), size: 10))
            #expect(try store.isBlobReferenced(sha256: digest(1)))
            #expect(try !store.isBlobReferenced(sha256: digest(2)))
            #expect(try !store.markOrphan(sha256: digest(1), size: 10, now: t0))
            #expect(try store.markOrphan(sha256: digest(2), size: 20, now: t0))
            #expect(try !store.markOrphan(sha256: digest(2), size: 20, now: t0 + 5), "marked already")
            let summary = try store.orphanSummary()
            #expect(summary.count == 1 && summary.bytes == 20)
            #expect(summary.lastMarkedAt == Timestamp.string(t0))
            #expect(try store.collectableMarks(markedBefore: t0 - 1).isEmpty)
            #expect(try store.collectableMarks(markedBefore: t0).map(\.sha256) == [digest(2)])
        }
    }

    @Test("take waits out the grace period, then the blob's mark is finished", arguments: Backend.available)
    func takeAndFinish(_ backend: Backend) throws {
        try withStore(backend) { store in
            try store.markOrphan(sha256: digest(2), size: 20, now: t0)
            #expect(try !store.takeForDeletion(sha256: digest(2), markedBefore: t0 - 1, now: t0 + day))
            #expect(try store.takeForDeletion(sha256: digest(2), markedBefore: t0 + 1, now: t0 + day))
            let mark = try #require(try store.collectableMarks(markedBefore: t0 - day).first)
            #expect(mark.state == .deleting && mark.stateAt == Timestamp.string(t0 + day))
            try store.finishDeletion(sha256: digest(2))
            #expect(try store.orphanSummary() == OrphanSummary(count: 0, bytes: 0, lastMarkedAt: nil))
            #expect(try !store.takeForDeletion(sha256: digest(9), markedBefore: t0 + day, now: t0 + day), "no mark")
        }
    }

    @Test("an upload's claim between mark and take leaves gc nothing to take", arguments: Backend.available)
    func claimBeforeTake(_ backend: Backend) throws {
        try withStore(backend) { store in
            #expect(try store.claimBlobForUpload(sha256: digest(3), now: t0) == .free, "no mark at all")
            try store.markOrphan(sha256: digest(3), size: 30, now: t0)
            #expect(try store.claimBlobForUpload(sha256: digest(3), now: t0 + 10) == .free)
            #expect(try !store.takeForDeletion(sha256: digest(3), markedBefore: t0 + day, now: t0 + day))
            #expect(try store.orphanSummary().count == 0)
        }
    }

    @Test("take then claim: the upload is told the blob is being collected", arguments: Backend.available)
    func takeBeforeClaim(_ backend: Backend) throws {
        try withStore(backend) { store in
            try store.markOrphan(sha256: digest(4), size: 40, now: t0)
            #expect(try store.takeForDeletion(sha256: digest(4), markedBefore: t0 + day, now: t0 + day))
            #expect(try store.claimBlobForUpload(sha256: digest(4), now: t0 + day + 1) == .beingCollected)
            #expect(try store.orphanSummary().count == 1, "the claim leaves gc's row alone")
            try store.finishDeletion(sha256: digest(4))
            #expect(try store.claimBlobForUpload(sha256: digest(4), now: t0 + day + 2) == .free)
        }
    }

    @Test("a 'deleting' row older than an hour is a dead gc's: the claim drops it", arguments: Backend.available)
    func staleDeleting(_ backend: Backend) throws {
        try withStore(backend) { store in
            try store.markOrphan(sha256: digest(5), size: 50, now: t0)
            #expect(try store.takeForDeletion(sha256: digest(5), markedBefore: t0, now: t0))
            #expect(try store.claimBlobForUpload(sha256: digest(5), now: t0 + 3599) == .beingCollected)
            #expect(try store.claimBlobForUpload(sha256: digest(5), now: t0 + 3601) == .free)
            #expect(try store.orphanSummary().count == 0)
        }
    }

    @Test("a dead gc's 'deleting' row is taken again, re-stamped", arguments: Backend.available)
    func leftoverDeleting(_ backend: Backend) throws {
        try withStore(backend) { store in
            try store.markOrphan(sha256: digest(6), size: 60, now: t0)
            #expect(try store.takeForDeletion(sha256: digest(6), markedBefore: t0, now: t0))
            // The next run's cut-off is before the mark, but the leftover row is collectable.
            #expect(try store.collectableMarks(markedBefore: t0 - day).map(\.sha256) == [digest(6)])
            #expect(try store.takeForDeletion(sha256: digest(6), markedBefore: t0 - day, now: t0 + 1800))
            #expect(
                try store.claimBlobForUpload(sha256: digest(6), now: t0 + 3601) == .beingCollected,
                "re-stamped: an hour from the new take, not the first")
        }
    }

    @Test("a mark an asset references again is dropped, not taken", arguments: Backend.available)
    func referencedAgain(_ backend: Backend) throws {
        try withStore(backend) { store in
            let bob = try store.addUser(name: "bob")
            try store.markOrphan(sha256: digest(7), size: 70, now: t0)
            // An asset that arrived without a claim (a tool that writes rows directly).
            try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(7), size: 70))
            #expect(try !store.takeForDeletion(sha256: digest(7), markedBefore: t0 + day, now: t0 + day))
            #expect(try store.orphanSummary().count == 0)
        }
    }

    @Test("a completed resumable upload's row holds its blob like an asset", arguments: Backend.available)
    func uploadRowReferences(_ backend: Backend) throws {
        try withStore(backend) { store in
            let erin = try store.addUser(name: "erin")
            let session = UploadSession(
                id: "0123456789abcdef0123456789abcdef", userID: erin.id,
                providerID: try ProviderID(parsing: "pixverse"),
                hashState: [1])
            try store.createUploadSession(session, lockOwner: "test")
            try store.markOrphan(sha256: digest(8), size: 80, now: t0)
            #expect(
                try store.recordCompletion(id: session.id, owner: "test", offset: 80, hashState: [2], sha256: digest(8))
            )
            // Completed, its answer lost: the retried PATCH needs the blob.
            #expect(try store.isBlobReferenced(sha256: digest(8)))
            #expect(try !store.takeForDeletion(sha256: digest(8), markedBefore: t0 + day, now: t0 + day))
            #expect(try store.orphanSummary().count == 0, "the mark is dropped")
            #expect(try !store.markOrphan(sha256: digest(8), size: 80, now: t0 + day))
            try store.deleteUploadSession(id: session.id)
            #expect(try store.markOrphan(sha256: digest(8), size: 80, now: t0 + day), "an orphan once the row expired")
        }
    }
}
