import BlobProtocols
import Foundation
import Testing

@testable import BlobStore

/// A resumable upload's partial file: what may be recorded after an append, and what it comes
/// back as after the app crashed (same boot) or the machine restarted (another boot id).
@Suite struct PartialUploadFileTests {
    let mib = 1 << 20
    let interval: Int64 = 4 << 20

    /// Runs `body` with a fresh path in a temporary folder (on the disk's file system: /tmp here).
    func withPath(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("partial-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir + "/up.partial")
    }

    func bytes(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed } }

    func append(_ file: PartialUploadFile, _ data: [UInt8]) throws {
        file.reserve(Int64(data.count))
        try data.withUnsafeBytes { try file.append($0) }
    }

    func marker(_ path: String) throws -> (bootID: String, synced: Int64)? {
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        return PartialUploadFile.marker(fd)
    }

    func fileSize(_ path: String) throws -> Int64 {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64)
    }

    @Test func anAppendIsSyncedEveryIntervalAndWhenDurable() throws {
        try withPath { path in
            let file = try PartialUploadFile(creating: path, bootID: "boot-a", syncInterval: interval)
            #expect(try marker(path)! == ("boot-a", 0))
            try append(file, bytes(3 * mib, seed: 1))
            try file.sync(durable: false)
            #expect(try marker(path)! == ("boot-a", 0))
            try append(file, bytes(2 * mib, seed: 2))
            try file.sync(durable: false)
            #expect(try marker(path)! == ("boot-a", Int64(5 * mib)))
            try append(file, bytes(mib, seed: 3))
            try file.sync(durable: false)
            #expect(try marker(path)! == ("boot-a", Int64(5 * mib)))
            try file.sync(durable: true)
            #expect(try marker(path)! == ("boot-a", Int64(6 * mib)))
            #expect(try fileSize(path) == Int64(6 * mib))
        }
    }

    @Test func theSameBootKeepsEverythingRecordedAndCutsWhatWasNot() throws {
        try withPath { path in
            let file = try PartialUploadFile(creating: path, bootID: "boot-a", syncInterval: interval)
            try append(file, bytes(5 * mib, seed: 1))
            try file.sync(durable: false)
            try append(file, bytes(2 * mib, seed: 2))
            try file.sync(durable: false)
            try append(file, bytes(mib, seed: 3))  // never recorded: the app died first
            // A crash of the app: the page cache still holds the unsynced appends.
            let reopened = try PartialUploadFile(
                opening: path, recordedOffset: Int64(7 * mib), bootID: "boot-a", syncInterval: interval)
            #expect(reopened.length == Int64(7 * mib))
            #expect(try fileSize(path) == Int64(7 * mib))
            #expect(try marker(path)! == ("boot-a", Int64(5 * mib)))
        }
    }

    @Test func aLaterBootCutsBackToTheSyncedLengthWithItsHashState() throws {
        try withPath { path in
            let first = bytes(5 * mib, seed: 1)
            let file = try PartialUploadFile(creating: path, bootID: "boot-a", syncInterval: interval)
            try append(file, first)
            try file.sync(durable: false)
            try append(file, bytes(2 * mib, seed: 2))
            try file.sync(durable: false)
            // The machine restarted: appends after the last fdatasync may be gone.
            let reopened = try PartialUploadFile(
                opening: path, recordedOffset: Int64(7 * mib), bootID: "boot-b", syncInterval: interval)
            #expect(reopened.length == Int64(5 * mib))
            #expect(try fileSize(path) == Int64(5 * mib))
            #expect(try marker(path)! == ("boot-b", Int64(5 * mib)))
            var expected = ResumableSHA256()
            expected.update(first)
            #expect(try reopened.hashState() == expected.state)
            // Appends go on from there, and a record at the synced length is kept as it is.
            try append(reopened, bytes(mib, seed: 4))
            try reopened.sync(durable: true)
            let again = try PartialUploadFile(
                opening: path, recordedOffset: Int64(6 * mib), bootID: "boot-c", syncInterval: interval)
            #expect(again.length == Int64(6 * mib))
        }
    }

    @Test func aRecordBelowTheSyncedLengthLowersItOnTheDisk() throws {
        try withPath { path in
            let file = try PartialUploadFile(creating: path, bootID: "boot-a", syncInterval: interval)
            try append(file, bytes(5 * mib, seed: 1))
            try file.sync(durable: true)
            // Synced, but the record was never written (its lock was lost): 3 MiB recorded.
            let reopened = try PartialUploadFile(
                opening: path, recordedOffset: Int64(3 * mib), bootID: "boot-a", syncInterval: interval)
            #expect(reopened.length == Int64(3 * mib))
            #expect(try marker(path)! == ("boot-a", Int64(3 * mib)))
            try append(reopened, bytes(mib, seed: 2))
            try reopened.sync(durable: false)
            let later = try PartialUploadFile(
                opening: path, recordedOffset: Int64(4 * mib), bootID: "boot-b", syncInterval: interval)
            #expect(later.length == Int64(3 * mib))
        }
    }

    @Test func aTruncateBelowTheSyncedLengthLowersIt() throws {
        try withPath { path in
            let file = try PartialUploadFile(creating: path, bootID: "boot-a", syncInterval: interval)
            try append(file, bytes(5 * mib, seed: 1))
            try file.sync(durable: true)
            try file.truncate(to: Int64(2 * mib))
            #expect(try marker(path)! == ("boot-a", Int64(2 * mib)))
            #expect(try fileSize(path) == Int64(2 * mib))
        }
    }

    @Test func aFileWithoutAMarkerWasSyncedOnEveryAppendAndIsTrusted() throws {
        try withPath { path in
            // Written before markers: every append was fdatasynced.
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes(3 * mib, seed: 1))))
            let file = try PartialUploadFile(
                opening: path, recordedOffset: Int64(2 * mib), bootID: "boot-b", syncInterval: interval)
            #expect(file.length == Int64(2 * mib))
            #expect(try marker(path)! == ("boot-b", Int64(2 * mib)))
        }
    }

    @Test func theBlobAnUploadBecomesCarriesNoMarker() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("partial-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let blobs = try BlobStore(dataDirectory: data)
        let content = bytes(mib, seed: 7)
        let file = try blobs.createPartial(upload: "0123456789abcdef0123456789abcdef")
        try content.withUnsafeBytes { try file.append($0) }
        try file.sync(durable: true)
        #expect(try marker(blobs.partialPath(upload: "0123456789abcdef0123456789abcdef")) != nil)
        let digest = try LocalFiles.sha256(ofFile: blobs.partialPath(upload: "0123456789abcdef0123456789abcdef")).digest
        try blobs.commitPartial(upload: "0123456789abcdef0123456789abcdef", as: digest)
        #expect(try marker(blobs.path(for: digest)) == nil)
        #expect(try fileSize(blobs.path(for: digest)) == Int64(mib))
    }

    @Test func aFileShorterThanWhatItMustHoldIsAnError() throws {
        try withPath { path in
            let file = try PartialUploadFile(creating: path, bootID: "boot-a", syncInterval: interval)
            try append(file, bytes(5 * mib, seed: 1))
            try file.sync(durable: true)
            #expect(truncate(path, off_t(4 * mib)) == 0)
            #expect(throws: FileError.self) {
                try PartialUploadFile(
                    opening: path, recordedOffset: Int64(5 * mib), bootID: "boot-b", syncInterval: interval)
            }
        }
    }
}
