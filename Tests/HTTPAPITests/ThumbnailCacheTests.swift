import AssetDedupCore
import BlobStore
import Foundation
import Synchronization
import Testing

@testable import HTTPAPI

/// `ThumbnailCache`: a thumbnail is made once per content and side, then read from disk; content
/// without one is remembered too. The maker here stands in for libvips (HTTPAPI does not link
/// it); `test_browser_duplicates.py` runs the real one behind nginx.
@Suite struct ThumbnailCacheTests {
    /// Answers a fixed thumbnail for one path suffix and fails for others, counting calls.
    final class CountingMaker: ThumbnailMaking {
        let calls = Mutex(0)
        let decodable: Bool
        init(decodable: Bool) { self.decodable = decodable }

        func thumbnail(fileAt path: String, maxSide: Int) throws -> Thumbnail {
            calls.withLock { $0 += 1 }
            struct Undecodable: Error {}
            guard decodable, FileManager.default.fileExists(atPath: path) else { throw Undecodable() }
            return Thumbnail(jpeg: [0xFF, 0xD8, 0xFF, UInt8(maxSide & 0xFF)], width: 4032, height: 3024)
        }
    }

    @Test(arguments: [true, false]) func madeOnceThenReadFromDisk(decodable: Bool) throws {
        let h = try APIHarness()
        let bytes = LifecycleTests.jpeg + sample(3000, seed: 9)
        let (status, _) = LifecycleTests().upload(h, bytes, type: "image/jpeg")
        #expect(status == 201)
        let digest = try SHA256Digest(parsing: hex(bytes))
        let maker = CountingMaker(decodable: decodable)
        let cache = ThumbnailCache(directory: h.dir + "/thumbnails", maker: maker)
        let blobs = try BlobStore(dataDirectory: h.dir + "/data")

        let first = try cache.thumbnail(of: digest, side: 128, blobs: blobs)
        let again = try cache.thumbnail(of: digest, side: 128, blobs: blobs)
        let expected = decodable ? Thumbnail(jpeg: [0xFF, 0xD8, 0xFF, 128], width: 4032, height: 3024) : nil
        #expect(first == expected && again == expected)
        #expect(maker.calls.withLock { $0 } == 1, "the second answer comes from the cache")
        #expect(FileManager.default.fileExists(atPath: cache.entryPath(digest, side: 128)))
        // Another side is another entry.
        _ = try cache.thumbnail(of: digest, side: 256, blobs: blobs)
        #expect(maker.calls.withLock { $0 } == 2)
    }

    @Test func entriesRoundTrip() {
        let thumbnail = Thumbnail(jpeg: Array(repeating: 7, count: 20), width: 70_000, height: 1)
        #expect(ThumbnailCache.decode(ThumbnailCache.encode(thumbnail)) == thumbnail)
        #expect(ThumbnailCache.decode(ThumbnailCache.encode(nil)) == nil)
        #expect(ThumbnailCache.decode(Array("garbage!garbage!".utf8)) == nil)
    }
}
