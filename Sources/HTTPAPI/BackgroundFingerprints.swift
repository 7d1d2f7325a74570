import AssetDedupCore
import BlobProtocols
import Foundation
import Logging
import PerceptualHash
import StoreProtocols

/// Fingerprints too slow for a request thread (a video: seconds of decoding ten frames), made one
/// at a time on a thread of serve's own, with its own store connection.
///
/// An upload of a video enqueues its asset and waits for it a bounded time (as it waits for a
/// delivery), so a short clip still answers with its hash and `similar`; a long one answers
/// without (`perceptual_hash: null`) and `GET /assets/{id}` shows it once done. One worker bounds
/// the CPU videos take whatever the number of uploads. The queue lives in memory: what is queued
/// when serve stops is left for `assetdedup fingerprints backfill`, which finds every asset
/// without a fingerprint.
///
/// `@unchecked Sendable` is safe: `capacity` is immutable, and `queue`, `finished`, `stopped` and
/// `thread` are read and written only while `condition` is locked.
public final class BackgroundFingerprints: @unchecked Sendable {
    struct Job {
        let asset: AssetID
        let sha256: SHA256Digest
    }

    /// Guards everything below.
    private let condition = NSCondition()
    private var queue: [Job] = []
    /// Finished since the last trim, for waiting requests.
    private var finished: Set<AssetID> = []
    private var stopped = false
    private var thread: Thread?
    /// Jobs past this are dropped (left for backfill) rather than held without bound.
    public let capacity: Int

    public init(capacity: Int = 1000) { self.capacity = capacity }

    /// Queues an asset; false when the queue is full or stopped (the asset waits for backfill).
    @discardableResult
    func enqueue(_ asset: AssetID, sha256: SHA256Digest) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped, queue.count < capacity else { return false }
        queue.append(Job(asset: asset, sha256: sha256))
        condition.broadcast()
        return true
    }

    /// Waits until `asset` is done or `deadline` passes; true when done.
    func wait(for asset: AssetID, until deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !finished.contains(asset) {
            if stopped || !condition.wait(until: deadline) { return finished.contains(asset) }
        }
        return true
    }

    /// Starts the worker: it opens its own store and fingerprints queued assets in order.
    public func start(
        fingerprinter: any MediaFingerprinting, blobs: any BlobStorage,
        openStore: @escaping @Sendable () throws -> any MediaFingerprints, logger: Logger
    ) {
        let thread = Thread { [self] in
            let store: any MediaFingerprints
            do {
                store = try openStore()
            } catch {
                logger.error("background fingerprints: no store connection, videos wait for backfill: \(error)")
                return
            }
            while let job = next() {
                do {
                    if try store.fingerprint(asset: job.asset) == nil {
                        try store.saveFingerprint(
                            fingerprinter.fingerprint(blob: job.sha256, in: blobs), asset: job.asset)
                    }
                } catch {
                    logger.warning("fingerprint of asset \(job.asset) not computed (backfill will retry): \(error)")
                }
                done(job.asset)
            }
        }
        thread.name = "fingerprints"
        condition.lock()
        self.thread = thread
        condition.unlock()
        thread.start()
    }

    /// Stops taking jobs; the one in progress finishes (bounded by the decoder's time limit).
    public func stop() {
        condition.lock()
        stopped = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopped { condition.wait() }
        return stopped ? nil : queue.removeFirst()
    }

    private func done(_ asset: AssetID) {
        condition.lock()
        if finished.count >= 10_000 { finished.removeAll() }
        finished.insert(asset)
        condition.broadcast()
        condition.unlock()
    }
}
