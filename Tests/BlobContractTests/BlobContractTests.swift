import AssetDedupCore
import BlobProtocols
import BlobStore
import Foundation
import S3
import S3BlobStore
import Testing

/// What callers rely on from a `BlobStorage`, the same checks on the local folder and on an S3
/// bucket (moto): one body per test, each backend (`BlobBackend.available`). Only the protocols'
/// methods are called; the backend's own names (`storedNames`, `openUploads`) are read from
/// outside to prove that nothing else was left behind.
@Suite("BlobStorage on the local folder and on S3")
struct BlobStorageContract {
    /// Above one part (8 MiB): a bucket begins a multipart upload while the writer is still writing.
    static let overOnePart = (8 << 20) + 100_000

    // MARK: Writing and reading

    @Test(
        "a streamed blob is hashed, published under its content key, and a second ingest changes nothing",
        arguments: BlobBackend.available)
    func ingestAStream(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let content = bytes(300_000, seed: 1)
        let digest: SHA256Digest
        do {
            let writer = try t.storage.makeTempWriter()
            for start in stride(from: 0, to: content.count, by: 65_536) {
                try writer.write(Array(content[start..<min(start + 65_536, content.count)]))
            }
            #expect(writer.size == Int64(content.count))
            digest = try writer.finish()
            #expect(digest == sha256(content))
            #expect(try !t.storage.contains(digest), "nothing is visible before commit")
            try t.storage.commit(writer, as: digest)
            #expect(try t.storage.contains(digest))
        }
        // Whatever the writer staged went with it.
        #expect(try t.storedNames() == [t.contentKey(digest)])

        // The same content again, through a writer and as an existing file: still one blob.
        #expect(try t.put(content) == digest)
        let legacy = t.scratchDirectory + "/legacy.bin"
        try Data(content).write(to: URL(fileURLWithPath: legacy))
        let ingested = try t.storage.ingest(existingFile: legacy)
        #expect(ingested.digest == digest && ingested.size == Int64(content.count))
        #expect(try t.storedNames() == [t.contentKey(digest)])
        #expect(try t.read(digest) == content)
        #expect(try t.openUploads() == [])
    }

    @Test("an existing file is ingested under its digest and stays where it was", arguments: BlobBackend.available)
    func ingestAFile(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        // Above one part: a bucket sends it as a multipart upload.
        let content = bytes(Self.overOnePart, seed: 2)
        let legacy = t.scratchDirectory + "/old-upload.mp4"
        try Data(content).write(to: URL(fileURLWithPath: legacy))
        let ingested = try t.storage.ingest(existingFile: legacy)
        #expect(ingested.digest == sha256(content) && ingested.size == Int64(Self.overOnePart))
        #expect(try t.openUploads() == [])
        #expect(try t.storedNames() == [t.contentKey(ingested.digest)])
        #expect(try t.read(ingested.digest) == content)
        #expect(try Data(contentsOf: URL(fileURLWithPath: legacy)) == Data(content))
    }

    @Test(
        "a blob reads back whole, by its first bytes, and as a local file that goes afterwards",
        arguments: BlobBackend.available)
    func readBack(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let content = bytes(200_000, seed: 3)
        let digest = try t.put(content)
        #expect(try t.storage.readPrefix(of: digest, count: 16) == Array(content.prefix(16)))
        #expect(try t.storage.readPrefix(of: digest, count: 0) == [])
        #expect(try t.storage.readPrefix(of: digest, count: 300_000) == content, "fewer when it is shorter")
        var seen: String?
        #expect(try t.read(digest) == content)
        try t.storage.withLocalFile(digest) { seen = $0 }
        // A bucket's download was a staged file, removed after the call; a folder's is the blob.
        #expect(try t.storedNames() == [t.contentKey(digest)])
        #expect(FileManager.default.fileExists(atPath: try #require(seen)) == (backend == .folder))
    }

    @Test("a blob that is not there: contains is false, reading it throws", arguments: BlobBackend.available)
    func absentBlob(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let absent = sha256(bytes(10, seed: 4))
        #expect(try !t.storage.contains(absent))
        #expect(throws: (any Error).self) { try t.storage.readPrefix(of: absent, count: 16) }
        var ran = false
        #expect(throws: (any Error).self) { try t.storage.withLocalFile(absent) { _ in ran = true } }
        #expect(!ran)
        #expect(try t.storedNames() == [])
    }

    @Test(
        "a bucket names each blob's object for server-side copies; a folder names none",
        arguments: BlobBackend.available)
    func remoteObject(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let digest = try t.put(bytes(1000, seed: 5))
        let object = t.storage.remoteObject(for: digest)
        switch backend {
        case .folder: #expect(object == nil)
        case .s3:
            #expect(object?.key == t.contentKey(digest))
            #expect(object.map { "s3://\($0.bucket)/node/" } == t.storage.location)
        }
    }

    @Test("concurrent commits of one content end with one whole blob", arguments: BlobBackend.available)
    func concurrentCommits(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let content = bytes(100_000, seed: 6)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { try t.put(content) } catch { failures.add(error) }
        }
        #expect(failures.all.isEmpty)
        #expect(try t.storedNames() == [t.contentKey(sha256(content))])
        #expect(try t.read(sha256(content)) == content)
    }

    // MARK: Announced digests

    @Test(
        "content announced with its own digest is published whole, and no upload stays open",
        arguments: BlobBackend.available)
    func announcedMatch(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let content = bytes(Self.overOnePart, seed: 7)
        let announced = sha256(content)
        do {
            let writer = try t.storage.makeTempWriter(announced: announced, sizeHint: Int64(content.count))
            for start in stride(from: 0, to: content.count, by: 1 << 20) {
                try writer.write(Array(content[start..<min(start + (1 << 20), content.count)]))
            }
            #expect(try writer.finish() == announced)
            try t.storage.commit(writer, as: announced)
            #expect(try t.openUploads() == [], "published by the commit itself")
        }
        #expect(try t.storedNames() == [t.contentKey(announced)])
        #expect(try t.openUploads() == [])
        #expect(try t.read(announced) == content)
    }

    @Test(
        "an announced digest the content does not match publishes nothing under either",
        arguments: BlobBackend.available)
    func announcedMismatch(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let content = bytes(Self.overOnePart, seed: 8)
        let announced = sha256(bytes(16, seed: 9))
        do {
            let writer = try t.storage.makeTempWriter(announced: announced, sizeHint: Int64(content.count))
            try writer.write(content)
            if backend == .s3 {
                #expect(try t.openUploads() == [t.contentKey(announced)], "a bucket began sending early")
            }
            #expect(try writer.finish() == sha256(content))
            // The API answers 422 and lets the writer go without committing it.
        }
        #expect(try !t.storage.contains(announced))
        #expect(try !t.storage.contains(sha256(content)))
        #expect(try t.storedNames() == [])
        #expect(try t.openUploads() == [])

        // Committed under the digest it really has (not what the API does, but allowed), it is
        // published under that one only; what went out under the other goes with the writer.
        let digest: SHA256Digest
        do {
            let writer = try t.storage.makeTempWriter(announced: announced, sizeHint: Int64(content.count))
            try writer.write(content)
            digest = try writer.finish()
            try t.storage.commit(writer, as: digest)
        }
        #expect(try t.storedNames() == [t.contentKey(digest)])
        #expect(try t.openUploads() == [])
    }

    @Test("content announced that the storage holds already is kept once", arguments: BlobBackend.available)
    func announcedExisting(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let content = bytes(5000, seed: 10)
        let digest = try t.put(content)
        do {
            let writer = try t.storage.makeTempWriter(announced: digest, sizeHint: 5000)
            try writer.write(content)
            #expect(try writer.finish() == digest)
            try t.storage.commit(writer, as: digest)
        }
        #expect(try t.storedNames() == [t.contentKey(digest)])
        #expect(try t.read(digest) == content)
    }

    // MARK: Partial (resumable) uploads

    @Test(
        "a resumable upload is created, appended, reopened at its recorded offset and completed",
        arguments: BlobBackend.available)
    func resumable(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let (a, b) = (bytes(100_000, seed: 11), bytes(150_000, seed: 12))
        let id = uploadID()
        #expect(try !t.storage.hasPartial(upload: id))
        let first = try t.storage.createPartial(upload: id)
        #expect(first.length == 0)
        #expect(try t.storage.hasPartial(upload: id))
        try a.withUnsafeBytes { try first.append($0) }
        try first.sync(durable: true)
        #expect(first.length == 100_000)

        // The next request, here on another node (or after a restart), opens it at the offset
        // the store recorded; any node may finish it.
        let other = try t.otherNode()
        #expect(try other.hasPartial(upload: id))
        let second = try other.openPartial(upload: id, recordedOffset: 100_000)
        #expect(second.length == 100_000)
        try b.withUnsafeBytes { try second.append($0) }
        try second.sync(durable: true)
        #expect(second.length == 250_000)
        let digest = sha256(a + b)
        #expect(try !t.storage.contains(digest), "nothing is published before completion")

        try other.commitPartial(upload: id, as: digest)
        #expect(try t.storage.contains(digest))
        #expect(try !t.storage.hasPartial(upload: id))
        #expect(try t.read(digest) == a + b)
        #expect(try t.storedNames() == [t.contentKey(digest)])
    }

    @Test(
        "reopening drops bytes past the recorded offset; bytes missing before it are an error",
        arguments: BlobBackend.available)
    func reopenAfterACrash(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let (a, lost, c) = (bytes(40_000, seed: 13), bytes(30_000, seed: 14), bytes(20_000, seed: 15))
        let id = uploadID()
        let before = try t.storage.createPartial(upload: id)
        try a.withUnsafeBytes { try before.append($0) }
        try before.sync(durable: true)
        // Appended and made durable, but the process died before the store recorded it.
        try lost.withUnsafeBytes { try before.append($0) }
        try before.sync(durable: true)

        let after = try t.storage.openPartial(upload: id, recordedOffset: 40_000)
        #expect(after.length == 40_000)
        try c.withUnsafeBytes { try after.append($0) }
        try after.sync(durable: true)
        #expect(throws: (any Error).self, "a record past the bytes kept") {
            try t.storage.openPartial(upload: id, recordedOffset: 60_001)
        }
        try t.storage.commitPartial(upload: id, as: sha256(a + c))
        #expect(try t.read(sha256(a + c)) == a + c)
    }

    @Test(
        "a failed append is cut back to the recorded offset and the next one goes on from there",
        arguments: BlobBackend.available)
    func truncateAFailedAppend(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let (a, failed, c) = (bytes(10_000, seed: 16), bytes(7000, seed: 17), bytes(5000, seed: 18))
        let id = uploadID()
        let partial = try t.storage.createPartial(upload: id)
        try a.withUnsafeBytes { try partial.append($0) }
        try partial.sync(durable: true)
        try failed.withUnsafeBytes { try partial.append($0) }
        try partial.truncate(to: 10_000)
        #expect(partial.length == 10_000)
        try c.withUnsafeBytes { try partial.append($0) }
        try partial.sync(durable: true)
        try t.storage.commitPartial(upload: id, as: sha256(a + c))
        #expect(try t.read(sha256(a + c)) == a + c)
    }

    @Test(
        "partial uploads are joined into a writer (tus concatenation), their lengths checked",
        arguments: BlobBackend.available)
    func copyPartials(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let (x, y) = (bytes(33_000, seed: 19), bytes(12_345, seed: 20))
        let (xid, yid) = (uploadID(), uploadID())
        for (id, content) in [(xid, x), (yid, y)] {
            let partial = try t.storage.createPartial(upload: id)
            try content.withUnsafeBytes { try partial.append($0) }
            try partial.sync(durable: true)
        }
        let writer = try t.storage.makeTempWriter()
        try t.storage.copyPartial(upload: xid, length: 33_000, into: writer)
        try t.storage.copyPartial(upload: yid, length: 12_345, into: writer)
        let digest = try writer.finish()
        #expect(digest == sha256(x + y))
        try t.storage.commit(writer, as: digest)
        #expect(try t.read(digest) == x + y)
        #expect(try t.storage.hasPartial(upload: xid) && t.storage.hasPartial(upload: yid), "copying keeps them")
        #expect(throws: (any Error).self, "a length the upload does not have") {
            try t.storage.copyPartial(upload: xid, length: 33_001, into: try t.storage.makeTempWriter())
        }
    }

    @Test(
        "completing an upload of content the storage holds keeps the blob and drops the partial",
        arguments: BlobBackend.available)
    func commitPartialOfExistingContent(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let content = bytes(20_000, seed: 21)
        let digest = try t.put(content)
        let id = uploadID()
        let partial = try t.storage.createPartial(upload: id)
        try content.withUnsafeBytes { try partial.append($0) }
        try partial.sync(durable: true)
        try t.storage.commitPartial(upload: id, as: digest)
        #expect(try !t.storage.hasPartial(upload: id))
        #expect(try t.storedNames() == [t.contentKey(digest)])
        #expect(try t.read(digest) == content)
    }

    @Test(
        "an aborted upload's bytes are removed once; an upload with no bytes yet exists too",
        arguments: BlobBackend.available)
    func removePartial(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let (id, empty) = (uploadID(), uploadID())
        let partial = try t.storage.createPartial(upload: id)
        try bytes(9000, seed: 22).withUnsafeBytes { try partial.append($0) }
        try partial.sync(durable: true)
        _ = try t.storage.createPartial(upload: empty)
        #expect(try t.storage.hasPartial(upload: empty))
        #expect(t.storage.removePartial(upload: id))
        #expect(try !t.storage.hasPartial(upload: id))
        #expect(!t.storage.removePartial(upload: id), "nothing left to remove")
        #expect(t.storage.removePartial(upload: empty))
        #expect(try t.storedNames() == [])
    }

    @Test(
        "the sweep's stale uploads are those older than the cut-off, never a finished one",
        arguments: BlobBackend.available)
    func stalePartials(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let (open, done, aborted) = (uploadID(), uploadID(), uploadID())
        for id in [open, done, aborted] {
            let partial = try t.storage.createPartial(upload: id)
            try Array(id.utf8).withUnsafeBytes { try partial.append($0) }
            try partial.sync(durable: true)
        }
        try t.storage.commitPartial(upload: done, as: sha256(Array(done.utf8)))
        t.storage.removePartial(upload: aborted)
        #expect(try t.storage.stalePartialUploads(olderThanSeconds: 3600) == [], "all are fresh")
        // A cut-off a minute ahead of now takes every upload there is, whatever the clock's
        // resolution (neither backend lets a test age what it holds).
        #expect(try t.storage.stalePartialUploads(olderThanSeconds: -60) == [open])
    }

    // MARK: The collector

    @Test(
        "every blob is listed with its size and time, and nothing that is not a blob",
        arguments: BlobBackend.available)
    func listBlobs(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let (small, large) = (bytes(10, seed: 23), bytes(70_000, seed: 24))
        try t.put(small)
        try t.put(large)
        // An upload in flight and a partial upload are not blobs yet.
        let inFlight = try t.storage.makeTempWriter()
        try inFlight.write(bytes(500, seed: 25))
        let partial = try t.storage.createPartial(upload: uploadID())
        try bytes(600, seed: 26).withUnsafeBytes { try partial.append($0) }
        try partial.sync(durable: true)

        var listed: [StoredBlob] = []
        try t.storage.forEachBlob { listed.append($0) }
        #expect(listed.map(\.digest).sorted() == [sha256(small), sha256(large)].sorted())
        #expect(
            Dictionary(uniqueKeysWithValues: listed.map { ($0.digest, $0.size) }) == [
                sha256(small): 10, sha256(large): 70_000,
            ])
        // gc compares `modified` with its grace period: it is the write's time (this hour).
        let now = Date().timeIntervalSince1970
        #expect(listed.allSatisfy { abs($0.modified - now) < 3600 })
        withExtendedLifetime(inFlight) {}
    }

    @Test(
        "gc deletes one blob and leaves the rest; deleting it again is no error",
        arguments: BlobBackend.available)
    func deleteBlob(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        let orphan = try t.put(bytes(4000, seed: 27))
        let kept = try t.put(bytes(5000, seed: 28))
        try t.storage.deleteBlob(orphan)
        #expect(try !t.storage.contains(orphan))
        #expect(try t.storage.contains(kept))
        try t.storage.deleteBlob(orphan)
        var listed: [SHA256Digest] = []
        try t.storage.forEachBlob { listed.append($0.digest) }
        #expect(listed == [kept])
        #expect(try t.storedNames() == [t.contentKey(kept)])
    }

    @Test(
        "what a crashed writer left stays while young, is counted by a dry run, then removed",
        arguments: BlobBackend.available)
    func sweepAbandonedWrites(_ backend: BlobBackend) throws {
        let t = try BlobUnderTest(backend)
        try t.leaveStagedFile(bytes(2500, seed: 29))
        let blob = try t.put(bytes(100, seed: 30))
        let none = (count: 0, bytes: Int64(0))
        #expect(try t.storage.sweepAbandonedWrites(olderThanSeconds: 3600, dryRun: false) == none)
        // Only now the bucket's open upload: moto dates every multipart upload in 2010, so one
        // could never look young there (AWS gives the real time).
        let open = try t.leaveOpenUpload()
        let crashed = (count: 1 + open, bytes: Int64(2500))
        // A cut-off a minute ahead of now: everything abandoned counts (see stalePartials).
        #expect(try t.storage.sweepAbandonedWrites(olderThanSeconds: -60, dryRun: true) == crashed)
        #expect(try t.storedNames().count == 2 && t.openUploads().count == open, "a dry run removes nothing")
        #expect(try t.storage.sweepAbandonedWrites(olderThanSeconds: -60, dryRun: false) == crashed)
        #expect(try t.storage.sweepAbandonedWrites(olderThanSeconds: -60, dryRun: false) == none)
        #expect(try t.storedNames() == [t.contentKey(blob)])
        #expect(try t.openUploads() == [])
    }

    // MARK: An unreachable bucket

    @Test("an unreachable bucket is BlobStorageUnavailable (the API's 503) and leaves no staged file")
    func unreachableBucket() throws {
        let closed = try closedPort()
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let client = S3Client(
            endpoint: S3Endpoint(url: "http://127.0.0.1:\(closed)"),
            credentials: S3Credentials(accessKeyID: "key", secretAccessKey: "secret"))
        let storage = try S3BlobStorage(
            location: "s3://nowhere/node", client: client, endpoint: "http://127.0.0.1:\(closed)",
            staging: try BlobStore(dataDirectory: data))
        let digest = sha256(bytes(10, seed: 31))
        #expect(throws: BlobStorageUnavailable.self) { try storage.contains(digest) }
        #expect(throws: BlobStorageUnavailable.self) { try storage.createPartial(upload: uploadID()) }
        #expect(throws: BlobStorageUnavailable.self) {
            let writer = try storage.makeTempWriter()
            try writer.write(bytes(10, seed: 31))
            try storage.commit(writer, as: try writer.finish())
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/tmp") == [])
    }
}

/// Errors from several threads.
final class Failures: @unchecked Sendable {
    // @unchecked: `errors` is only touched while `lock` is held.
    private let lock = NSLock()
    private var errors: [any Error] = []
    func add(_ error: any Error) { lock.withLock { errors.append(error) } }
    var all: [any Error] { lock.withLock { errors } }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released): connections are refused.
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
    return Int(UInt16(bigEndian: address.sin_port))
}
