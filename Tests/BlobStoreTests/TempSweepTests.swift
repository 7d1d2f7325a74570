import Foundation
import Testing

@testable import BlobStore

/// The startup sweep of `<data>/tmp`, which several `serve` nodes may share.
@Suite struct TempSweepTests {
    let hour = 3600.0

    @Test func aLiveWritersFileStaysAndADeadOnesGoes() {
        let live: (pid_t) -> Bool = { $0 == 4242 }
        #expect(
            !BlobStore.isAbandonedTempFile(
                name: "upload-4242-99.part", secondsUntouched: 5, after: hour, isRunning: live))
        #expect(
            BlobStore.isAbandonedTempFile(
                name: "upload-4243-99.part", secondsUntouched: 5, after: hour, isRunning: live))
    }

    @Test func anEarlierProcessWithOurPidIsGone() {
        let name = "upload-\(getpid())-7.part"
        #expect(BlobStore.isAbandonedTempFile(name: name, secondsUntouched: 0, after: hour, isRunning: { _ in true }))
    }

    @Test func anythingUntouchedForTheWindowGoes() {
        #expect(
            BlobStore.isAbandonedTempFile(
                name: "upload-4242-1.part", secondsUntouched: hour, after: hour, isRunning: { _ in true }))
        #expect(
            !BlobStore.isAbandonedTempFile(
                name: "odd.part", secondsUntouched: 10, after: hour, isRunning: { _ in false }))
        #expect(
            BlobStore.isAbandonedTempFile(
                name: "odd.part", secondsUntouched: hour + 1, after: hour, isRunning: { _ in false }))
    }

    @Test func theSweepKeepsAnotherLiveProcesssFile() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let blobs = try BlobStore(dataDirectory: data)
        let parent = "\(blobs.tempDirectory)/upload-\(getppid())-1.part"  // the test runner's parent: alive
        let mine = "\(blobs.tempDirectory)/upload-\(getpid())-2.part"  // "an earlier process" with our pid
        for path in [parent, mine] { #expect(FileManager.default.createFile(atPath: path, contents: Data([1]))) }
        #expect(try blobs.sweepTempFiles() == 1)
        #expect(FileManager.default.fileExists(atPath: parent))
        #expect(!FileManager.default.fileExists(atPath: mine))
    }
}
