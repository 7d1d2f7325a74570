import Foundation
import Testing

@testable import UploadClient

/// The hash cache on a real SQLite file in a temp folder.
@Suite struct HashCacheTests {
    static let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    static let xyz = "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282"

    /// Sets a file's mtime (unix seconds): a file settled long before this run.
    func setMtime(_ path: String, _ seconds: Int) {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    func uploader(_ cache: HashCache?) -> Uploader {
        Uploader(client: APIClient(server: "http://127.0.0.1:9", token: "t"), options: UploadOptions(), cache: cache)
    }

    @Test func aRerunTakesUnchangedFilesFromTheCacheWithoutReadingThem() throws {
        let tree = try TempTree()
        let path = try tree.file("a.bin", "abc")
        let hourAgo = time(nil) - 3600
        setMtime(path, hourAgo)
        let cachePath = tree.root + "/cache/nested/upload-cache.sqlite"

        let first = uploader(try HashCache(path: cachePath)).hash(path)
        #expect(first.read)
        #expect(try first.result.get() == HashedFile(path: path, size: 3, sha256: Self.abc))

        // Same size, same mtime, other bytes: only a cache that did not read the file answers
        // the old digest. (Reopened: the cache lives in the file, not in the process.)
        try Data("xyz".utf8).write(to: URL(fileURLWithPath: path))
        setMtime(path, hourAgo)
        let second = uploader(try HashCache(path: cachePath)).hash(path)
        #expect(!second.read)
        #expect(try second.result.get().sha256 == Self.abc)

        // A new mtime is a change: read again, and the new digest recorded.
        setMtime(path, hourAgo + 1800)
        let third = uploader(try HashCache(path: cachePath)).hash(path)
        #expect(third.read)
        #expect(try third.result.get().sha256 == Self.xyz)
        #expect(!uploader(try HashCache(path: cachePath)).hash(path).read)

        // Without a cache every file is read.
        #expect(uploader(nil).hash(path).read)
    }

    @Test func aSizeOrFileChangeMissesTheCache() throws {
        let tree = try TempTree()
        let cache = try HashCache(path: tree.root + "/c.sqlite")
        let identity = FileIdentity(device: 1, inode: 2, size: 3, mtimeNanoseconds: 1_000_000_000_000)
        cache.record(identity, sha256: Self.abc, hashedAt: identity.mtimeNanoseconds + 10_000_000_000)
        #expect(cache.sha256(for: identity) == Self.abc)
        #expect(
            cache.sha256(for: FileIdentity(device: 1, inode: 2, size: 4, mtimeNanoseconds: 1_000_000_000_000)) == nil)
        #expect(
            cache.sha256(for: FileIdentity(device: 1, inode: 3, size: 3, mtimeNanoseconds: 1_000_000_000_000)) == nil)
        #expect(
            cache.sha256(for: FileIdentity(device: 9, inode: 2, size: 3, mtimeNanoseconds: 1_000_000_000_000)) == nil)
        #expect(
            cache.sha256(for: FileIdentity(device: 1, inode: 2, size: 3, mtimeNanoseconds: 1_000_000_000_001)) == nil)
    }

    @Test func aFileHashedInTheSecondsAfterItsLastWriteIsReadAgain() throws {
        let tree = try TempTree()
        let cache = try HashCache(path: tree.root + "/c.sqlite")
        // Written 1 s before it was hashed: a write in the same clock tick after the read could
        // have left size and mtime alone ("racily clean"), so the digest is not trusted.
        let racy = FileIdentity(device: 1, inode: 2, size: 3, mtimeNanoseconds: 5_000_000_000_000)
        cache.record(racy, sha256: Self.abc, hashedAt: racy.mtimeNanoseconds + 1_000_000_000)
        #expect(cache.sha256(for: racy) == nil)
        // Hashed later (the next run read it again): trusted from then on.
        cache.record(racy, sha256: Self.abc, hashedAt: racy.mtimeNanoseconds + HashCache.racyWindowNanoseconds)
        #expect(cache.sha256(for: racy) == Self.abc)

        // A file just written is read on the next run too, then taken from the cache.
        let fresh = try tree.file("fresh.bin", "abc")
        let cachePath = tree.root + "/c.sqlite"
        #expect(uploader(try HashCache(path: cachePath)).hash(fresh).read)
        #expect(uploader(try HashCache(path: cachePath)).hash(fresh).read)
    }

    @Test func uploadURLsAreRememberedPerServerProviderAndContentUntilForgotten() throws {
        let tree = try TempTree()
        let path = tree.root + "/c.sqlite"
        let cache = try HashCache(path: path)
        #expect(cache.upload(server: "http://a", provider: "p", sha256: Self.abc) == nil)
        cache.rememberUpload(server: "http://a", provider: "p", sha256: Self.abc, size: 10, location: "/api/v1/tus/1")
        cache.rememberUpload(server: "http://a", provider: "q", sha256: Self.abc, size: 10, location: "/api/v1/tus/2")
        let reopened = try HashCache(path: path)
        #expect(
            reopened.upload(server: "http://a", provider: "p", sha256: Self.abc)
                == RememberedUpload(location: "/api/v1/tus/1", size: 10))
        #expect(reopened.upload(server: "http://b", provider: "p", sha256: Self.abc) == nil)
        reopened.forgetUpload(server: "http://a", provider: "p", sha256: Self.abc)
        #expect(reopened.upload(server: "http://a", provider: "p", sha256: Self.abc) == nil)
        #expect(reopened.upload(server: "http://a", provider: "q", sha256: Self.abc)?.location == "/api/v1/tus/2")
    }

    @Test func theDefaultPathFollowsXDG() {
        #expect(
            HashCache.defaultPath(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"])
                == "/x/cache/assetdedup/upload-cache.sqlite")
        // A relative XDG_CACHE_HOME is invalid (XDG Base Directory spec): ignored.
        #expect(
            HashCache.defaultPath(environment: ["XDG_CACHE_HOME": "rel", "HOME": "/home/u"])
                == "/home/u/.cache/assetdedup/upload-cache.sqlite")
        #expect(HashCache.defaultPath(environment: [:]) == nil)
    }
}
