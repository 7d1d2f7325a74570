import AssetDedupCore
import Foundation
import Testing

@testable import Providers

@Suite("sync engine: uploads on worker threads, records on the caller's")
struct SyncJobTests {
    static func items(in dir: String, count: Int) throws -> [SyncItem] {
        try (0..<count).map { index in
            SyncItem(
                assetID: AssetID(Int64(index + 1)), userID: UserID(1),
                blob: try makeBlob(in: dir, name: "blob\(index)", size: 1000 + index, seed: UInt64(index + 1)))
        }
    }

    /// Runs a job over `items` in pages of `page`, collecting what `record` and `report` saw.
    static func run(_ provider: any Provider, _ items: [SyncItem], concurrency: Int, page: Int = 2)
        throws -> (
            progress: SyncProgress, recorded: [AssetID: String], outcomes: [AssetID: SyncOutcome],
            recordThreads: Set<ObjectIdentifier>, released: [AssetID]
        )
    {
        var remaining = items[...]
        var recorded: [AssetID: String] = [:]
        var outcomes: [AssetID: SyncOutcome] = [:]
        var threads = Set<ObjectIdentifier>()
        var released: [AssetID] = []
        let progress = try SyncJob(provider: provider, concurrency: concurrency).run(
            total: SyncProgress(totalCount: items.count, totalBytes: items.reduce(0) { $0 + $1.blob.size }),
            next: {
                let next = Array(remaining.prefix(page))
                remaining = remaining.dropFirst(page)
                return next
            },
            record: { item, id in
                #expect(recorded[item.assetID] == nil)
                recorded[item.assetID] = id
                threads.insert(ObjectIdentifier(Thread.current))
            },
            release: { item, _, _ in released.append(item.assetID) },
            report: { _, item, outcome in
                if let item, let outcome { outcomes[item.assetID] = outcome }
            })
        return (progress, recorded, outcomes, threads, released)
    }

    @Test("every item is pushed once and recorded on the calling thread; a missing blob fails alone")
    func pushesAndRecords() throws {
        try withTemporaryDirectory { (dir: String) throws in
            var items = try Self.items(in: dir, count: 7)
            try FileManager.default.removeItem(atPath: items[3].blob.path)
            let provider = DirectoryProvider(id: slug("archive"), root: "\(dir)/provider")
            items[0] = SyncItem(assetID: items[0].assetID, userID: items[0].userID, blob: items[0].blob)
            _ = try provider.upload(items[0].blob)  // already there before the run
            let result = try Self.run(provider, items, concurrency: 3)
            #expect(result.progress.doneCount == 7)
            #expect(result.progress.uploaded == 5 && result.progress.alreadyThere == 1 && result.progress.failed == 1)
            #expect(result.progress.doneBytes == items.reduce(0) { $0 + $1.blob.size })
            #expect(Set(result.recorded.keys) == Set(items.map(\.assetID)).subtracting([items[3].assetID]))
            #expect(result.recordThreads == [ObjectIdentifier(Thread.current)])
            #expect(result.released == [items[3].assetID])  // the failed one's lease is given back
            #expect(
                result.outcomes[items[0].assetID]
                    == .alreadyThere(providerAssetID: DirectoryProvider.relativePath(for: items[0].blob.sha256)))
            guard case .failed(let reason, let retryable) = result.outcomes[items[3].assetID] else {
                Issue.record("missing blob did not fail")
                return
            }
            #expect(reason.contains("missing") && !retryable)
        }
    }

    @Test("against a real server: N in flight, one request per item, failures not recorded")
    func concurrentUploads() throws {
        let server = try FakeProviderServer(["--mode", "slow", "--delay", "0.3", "--script", "400"])
        try withTemporaryDirectory { (dir: String) throws in
            let items = try Self.items(in: dir, count: 8)
            let provider = HTTPProvider(
                id: slug("runway"),
                settings: HTTPUploadSettings(url: server.url(), retry: RetryPolicy(maxAttempts: 1)))
            let result = try Self.run(provider, items, concurrency: 4, page: 3)
            let received = try server.received()
            #expect(received.count == 8)
            #expect(Set(received.compactMap(\.sha256)) == Set(items.map(\.blob.sha256.hex)))
            #expect(result.progress.uploaded == 7 && result.progress.failed == 1)
            #expect(result.recorded.count == 7)
            #expect(Set(result.recorded.values).count == 7)
            // The server saw a request start while another was still waiting on its slow answer.
            let overlapping = received.filter { $0.answer == "slow" }.contains { first in
                received.contains { $0.n != first.n && $0.time >= first.time && $0.time < first.receivedAt + 0.25 }
            }
            #expect(overlapping)
            // No stopwatch: how many requests the server held at once, from its own log. A request
            // is held from its start at least until its answer is due (a slow one 0.3 s after its
            // body arrived), so this count can only be lower than the truth: at least 2 shows
            // uploads overlapped, at most 4 that the job keeps no more than `concurrency` in flight.
            let held = received.map { ($0.time, $0.receivedAt + ($0.answer == "slow" ? 0.3 : 0)) }
            let peak = held.map { start in held.filter { $0.0 <= start.0 && start.0 < $0.1 }.count }.max() ?? 0
            #expect((2...4).contains(peak), "\(peak) requests held at once")
        }
    }

    @Test("an item recorded or leased by someone else after its page was read is not sent")
    func recordedOrClaimedMeanwhileIsSkipped() throws {
        try withTemporaryDirectory { (dir: String) throws in
            let items = try Self.items(in: dir, count: 3)
            let provider = DirectoryProvider(id: slug("archive"), root: "\(dir)/provider")
            var recorded: [AssetID] = []
            var released: [AssetID] = []
            var handed = false
            let progress = try SyncJob(provider: provider, concurrency: 2).run(
                total: SyncProgress(totalCount: 3, totalBytes: 0),
                next: {
                    defer { handed = true }
                    return handed ? [] : items
                },
                claim: {
                    switch $0.assetID {
                    case items[1].assetID: .recordedMeanwhile(providerAssetID: "api-7")
                    case items[2].assetID: .claimedElsewhere(by: "serve/1 host pid 9 ab")
                    default: .send(idempotencyKey: "k-1")
                    }
                },
                record: { item, _ in recorded.append(item.assetID) },
                release: { item, _, _ in released.append(item.assetID) },
                report: { _, _, _ in })
            #expect(progress.uploaded == 1 && progress.alreadyThere == 1 && progress.inProgressElsewhere == 1)
            #expect(recorded == [items[0].assetID] && released.isEmpty)
            #expect(provider.holdsFile(for: items[0].blob))
            #expect(provider.holdsFile(for: items[1].blob) == false)
            #expect(provider.holdsFile(for: items[2].blob) == false)
        }
    }
}

extension DirectoryProvider {
    fileprivate func holdsFile(for blob: BlobReference) -> Bool {
        access("\(root)/\(Self.relativePath(for: blob.sha256))", F_OK) == 0
    }
}
