import Crypto
import Foundation
import Synchronization
import Testing

@testable import S3

@Suite(
    "S3StreamingUpload against a real S3 server (moto, auth on)",
    .enabled(if: S3TestServer.isConfigured, S3TestServer.skipNote))
struct S3StreamingUploadTests {
    /// Writes `total` pseudo-random bytes to a new file in 1 MiB chunks, telling `upload` after each.
    static func grow(_ path: String, total: Int, _ upload: S3StreamingUpload) throws -> [UInt8] {
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var generator = SystemRandomNumberGenerator()
        var hasher = SHA256()
        var written = 0
        while written < total {
            let count = min(1 << 20, total - written)
            var chunk = [UInt8](repeating: 0, count: count)
            chunk.withUnsafeMutableBytes { raw in
                for i in stride(from: 0, to: count - 7, by: 8) { raw.storeBytes(of: generator.next(), toByteOffset: i, as: UInt64.self) }
            }
            try handle.write(contentsOf: chunk)
            hasher.update(data: chunk)
            written += count
            upload.written(Int64(written))
        }
        return Array(hasher.finalize())
    }

    @Test func partsGoOutWhileTheFileIsStillBeingWritten() throws {
        try S3TestServer.withBucket { client, bucket in
            let path = NSTemporaryDirectory() + "stream-" + UUID().uuidString
            defer { unlink(path) }
            // The file's size when each part began: the first must start before the last byte is written.
            let sizes = Mutex<[Int: Int64]>([:])
            let observing = S3TestServer.client(
                hooks: S3TestHooks(beforePart: { number in
                    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
                    sizes.withLock { $0[number] = size ?? -1 }
                }))
            let total = 30 << 20 + 777
            let upload = S3StreamingUpload(
                client: observing, bucket: bucket, key: "blobs/x", path: path, sizeHint: Int64(total), concurrency: 2)
            let digest = try Self.grow(path, total: total, upload)
            #expect(try upload.complete(size: Int64(total)))
            let seen = sizes.withLock { $0 }
            #expect(seen.keys.sorted() == [1, 2, 3, 4])
            #expect(try #require(seen[1]) < Int64(total), "part 1 went out while the file was still growing")
            let (written, stored) = try S3TestServer.sha256OfObject(client, bucket: bucket, key: "blobs/x")
            #expect(written == Int64(total))
            #expect(stored == digest)
            #expect(try client.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
        }
    }

    @Test func aFileOfOnePartBeginsNoUpload() throws {
        try S3TestServer.withBucket { client, bucket in
            let path = NSTemporaryDirectory() + "stream-" + UUID().uuidString
            defer { unlink(path) }
            let upload = S3StreamingUpload(client: client, bucket: bucket, key: "blobs/small", path: path, sizeHint: nil)
            _ = try Self.grow(path, total: 8 << 20, upload)
            #expect(try upload.complete(size: 8 << 20) == false, "the caller sends it in one PUT")
            #expect(try client.headObject(bucket: bucket, key: "blobs/small") == nil)
            #expect(try client.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
        }
    }

    @Test func anUploadReleasedUnfinishedIsAbortedAndLeavesNothing() throws {
        try S3TestServer.withBucket { client, bucket in
            let path = NSTemporaryDirectory() + "stream-" + UUID().uuidString
            defer { unlink(path) }
            do {
                let upload = S3StreamingUpload(client: client, bucket: bucket, key: "blobs/cut", path: path, sizeHint: nil)
                _ = try Self.grow(path, total: 20 << 20, upload)
                // A body cut here, or a digest that did not match: the upload is released.
            }
            #expect(try client.headObject(bucket: bucket, key: "blobs/cut") == nil)
            #expect(try client.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
        }
    }

    @Test func aFailedPartFailsCompleteAndLeavesNothing() throws {
        struct PartFailed: Error {}
        try S3TestServer.withBucket { client, bucket in
            let path = NSTemporaryDirectory() + "stream-" + UUID().uuidString
            defer { unlink(path) }
            let failing = S3TestServer.client(hooks: S3TestHooks(beforePart: { if $0 == 2 { throw PartFailed() } }))
            let upload = S3StreamingUpload(client: failing, bucket: bucket, key: "blobs/bad", path: path, sizeHint: nil)
            _ = try Self.grow(path, total: 20 << 20, upload)
            #expect(throws: PartFailed.self) { try upload.complete(size: 20 << 20) }
            #expect(try client.headObject(bucket: bucket, key: "blobs/bad") == nil)
            #expect(try client.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
        }
    }
}
