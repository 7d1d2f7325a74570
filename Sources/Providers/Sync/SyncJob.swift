import AssetDedupCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Pushes assets to one provider with N uploads in flight: the engine of `assetdedup sync`.
///
/// The calling thread owns the store: it fetches pages (`next`), records each success the
/// moment it arrives (`record`), and reports progress, so a run killed at any point loses at
/// most the uploads in flight, and the next run starts with what is still missing. Uploads run
/// on `concurrency` plain threads, because providers block.
public final class SyncJob {
    public let provider: any Provider
    public let concurrency: Int
    /// Where adapters get a local file of each blob.
    public let files: any BlobFiles
    /// How often `report` is called with no new result, so a bar's clock and ETA move.
    public var tickInterval: Double = 0.5

    public init(provider: any Provider, concurrency: Int, files: any BlobFiles = BlobPaths()) {
        self.provider = provider
        self.files = files
        self.concurrency = max(1, concurrency)
    }

    /// Runs until `next` returns an empty page and every upload has finished.
    ///
    /// - `next`: the following page of items (keyset-paginated by the caller).
    /// - `claim`: asked just before sending, on this thread: whether someone else (serve's
    ///   delivery worker) recorded the item since its page was read, or is sending it now; either
    ///   way it is not sent. `.send` means the caller now holds the item's delivery lease.
    /// - `record`: store a success (and end the lease); a throw stops the run once in-flight
    ///   uploads end.
    /// - `release`: give back the lease of an item that failed, with why and whether it is
    ///   worth retrying, so the delivery queue may try again.
    /// - `report`: called after each item (with it) and on ticks (with nil).
    public func run(
        total: SyncProgress,
        next: () throws -> [SyncItem],
        claim: (SyncItem) throws -> SyncClaim = { _ in .send() },
        record: (SyncItem, String) throws -> Void,
        release: (SyncItem, _ reason: String, _ retryable: Bool) throws -> Void = { _, _, _ in },
        report: (SyncProgress, SyncItem?, SyncOutcome?) -> Void
    ) throws -> SyncProgress {
        let started = ContinuousClock.now
        let channel = SyncChannel()
        let workers = DispatchGroup()
        let provider = self.provider
        let files = self.files
        for _ in 0..<concurrency {
            workers.enter()
            Thread {
                while let item = channel.takeWork() {
                    channel.putResult(item, Self.push(item, to: provider, files: files))
                }
                workers.leave()
            }.start()
        }
        defer {
            channel.close()
            workers.wait()
        }
        var progress = total
        var pending: [SyncItem] = []
        var exhausted = false
        var inFlight = 0
        while true {
            while inFlight < concurrency {
                if pending.isEmpty && !exhausted {
                    pending = try next().reversed()
                    exhausted = pending.isEmpty
                }
                guard var item = pending.popLast() else { break }
                let skipped: SyncOutcome?
                switch try claim(item) {
                case .send(let key):
                    item.blob.idempotencyKey = key
                    skipped = nil
                case .recordedMeanwhile(let id): skipped = .alreadyThere(providerAssetID: id)
                case .claimedElsewhere(let by): skipped = .inProgressElsewhere(by: by)
                }
                if let skipped {
                    progress.add(skipped, bytes: item.blob.size)
                    report(progress, item, skipped)
                    continue
                }
                channel.putWork(item)
                inFlight += 1
            }
            if inFlight == 0 { break }
            guard let (item, outcome) = channel.takeResult(waitingAtMost: tickInterval) else {
                progress.elapsed = started.duration(to: .now).seconds
                report(progress, nil, nil)
                continue
            }
            inFlight -= 1
            switch outcome {
            case .uploaded(let id), .alreadyThere(let id): try record(item, id)
            case .failed(let reason, let retryable): try release(item, reason, retryable)
            case .inProgressElsewhere: break
            }
            progress.add(outcome, bytes: item.blob.size)
            progress.elapsed = started.duration(to: .now).seconds
            report(progress, item, outcome)
        }
        return progress
    }

    /// One item on a worker thread (`Provider.send`): a missing blob fails here, a provider
    /// that can tell it already holds the content is not sent the bytes again.
    static func push(_ item: SyncItem, to provider: any Provider, files: any BlobFiles) -> SyncOutcome {
        do {
            switch try provider.send(item.blob, files: files) {
            case .uploaded(let id): return .uploaded(providerAssetID: id)
            case .alreadyThere(let id): return .alreadyThere(providerAssetID: id)
            }
        } catch let error as ProviderError {
            return .failed(reason: error.message, retryable: error.retryable)
        } catch {
            return .failed(reason: "\(error)", retryable: false)
        }
    }
}
