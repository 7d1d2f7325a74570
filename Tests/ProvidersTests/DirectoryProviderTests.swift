import AssetDedupCore
import Foundation
import Testing

@testable import Providers

@Suite("directory provider, against real folders")
struct DirectoryProviderTests {
    @Test("same file system: a copy of its own (not a link), published as ab/<hex>, and idempotent")
    func copySameFileSystem() throws {
        try withTemporaryDirectory { (dir: String) throws in
            let blob = try makeBlob(in: dir, size: 100_000)
            let provider = DirectoryProvider(id: slug("archive"), root: "\(dir)/provider")
            #expect(try provider.presence(of: blob) == .absent)
            let id = try provider.upload(blob)
            #expect(id == "\(blob.sha256.hex.prefix(2))/\(blob.sha256.hex)")
            let target = "\(dir)/provider/\(id)"
            #expect(fileInfo(target)?.st_ino != fileInfo(blob.path)?.st_ino)
            #expect(fileInfo(blob.path)?.st_nlink == 1)
            #expect(fileInfo(target).map { $0.st_mode & 0o777 } == 0o444)
            #expect(FileManager.default.contentsEqual(atPath: target, andPath: blob.path))
            #expect(try provider.upload(blob) == id)
            #expect(try provider.presence(of: blob) == .present(providerAssetID: id))
            let names = try FileManager.default.contentsOfDirectory(
                atPath: "\(dir)/provider/\(blob.sha256.hex.prefix(2))")
            #expect(names == [blob.sha256.hex])  // no temp file left behind
        }
    }

    /// /dev/shm is a tmpfs on Linux; the temp folder is on the main disk.
    static let tmpfsIsSeparate: Bool = {
        guard let shm = fileInfo("/dev/shm"), let tmp = fileInfo(FileManager.default.temporaryDirectory.path) else {
            return false
        }
        return shm.st_dev != tmp.st_dev && access("/dev/shm", W_OK) == 0
    }()

    @Test("across file systems (temp disk -> tmpfs): copied", .enabled(if: tmpfsIsSeparate))
    func crossFileSystemCopy() throws {
        try withTemporaryDirectory { (dir: String) throws in
            try withTemporaryDirectory(base: "/dev/shm") { (shm: String) throws in
                let blob = try makeBlob(in: dir, size: 2_500_000)
                let provider = DirectoryProvider(id: slug("archive"), root: "\(shm)/provider")
                let target = "\(shm)/provider/\(try provider.upload(blob))"
                #expect(fileInfo(target)?.st_dev != fileInfo(blob.path)?.st_dev)
                #expect(fileInfo(blob.path)?.st_nlink == 1)
                #expect(FileManager.default.contentsEqual(atPath: target, andPath: blob.path))
                #expect(try provider.upload(blob) == DirectoryProvider.relativePath(for: blob.sha256))
            }
        }
    }

    @Test("a blob whose bytes do not match its hash is refused, and nothing is published")
    func damagedBlob() throws {
        try withTemporaryDirectory { (dir: String) throws in
            let good = try makeBlob(in: dir, size: 5000)
            try Data("tampered".utf8).write(to: URL(fileURLWithPath: good.path))
            let blob = BlobReference(path: good.path, sha256: good.sha256, size: 8)
            let provider = DirectoryProvider(id: slug("archive"), root: "\(dir)/provider")
            let error = try #require(throws: ProviderError.self) { try provider.upload(blob) }
            #expect(!error.retryable)
            #expect(error.message.contains("damaged"))
            let folder = "\(dir)/provider/\(blob.sha256.hex.prefix(2))"
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        }
    }

    @Test("a missing blob is a non-retryable error")
    func missingBlob() throws {
        try withTemporaryDirectory { (dir: String) throws in
            let blob = BlobReference(
                path: "\(dir)/nope", sha256: SHA256Digest(bytes: [UInt8](repeating: 7, count: 32)), size: 1)
            let error = try #require(throws: ProviderError.self) {
                try DirectoryProvider(id: slug("archive"), root: "\(dir)/provider").upload(blob)
            }
            #expect(!error.retryable)
            #expect(error.description.hasPrefix("provider archive: blob \(dir)/nope is not readable"))
        }
    }

    @Test("a file of the wrong size at the target is replaced")
    func wrongSizeReplaced() throws {
        try withTemporaryDirectory { (dir: String) throws in
            let blob = try makeBlob(in: dir, size: 4096)
            let provider = DirectoryProvider(id: slug("archive"), root: "\(dir)/provider")
            let target = "\(dir)/provider/\(DirectoryProvider.relativePath(for: blob.sha256))"
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("short".utf8).write(to: URL(fileURLWithPath: target))
            #expect(try provider.presence(of: blob) == .absent)
            _ = try provider.upload(blob)
            #expect(FileManager.default.contentsEqual(atPath: target, andPath: blob.path))
        }
    }

    @Test("health: ok before the first upload when it can create the folder; not for a file")
    func health() throws {
        try withTemporaryDirectory { (dir: String) throws in
            #expect(DirectoryProvider(id: slug("a"), root: "\(dir)/not/yet").health() == .ok)
            try Data().write(to: URL(fileURLWithPath: "\(dir)/file"))
            #expect(DirectoryProvider(id: slug("a"), root: "\(dir)/file").health() == .unavailable)
            #expect(DirectoryProvider(id: slug("a"), root: "\(dir)/file/below").health() == .unavailable)
        }
    }
}
