import AssetDedupCore
import StoreProtocols
import BlobProtocols
import Foundation
import Logging
import Metrics
import Providers

/// Sends one leased delivery through its provider adapter and records the outcome: the one
/// place a job turns into `delivered`, `queued` again (retryable, with backoff) or `failed`.
/// Every sender goes through it: serve's workers and a request that delivers its own job
/// (`run`), and `sync`, which sends with its own threads and records here (`record`). The claim
/// is the queue's lease (`DeliveryQueue.leaseNextDelivery` / `leaseDelivery`).
public struct DeliveryRunner: Sendable {
    public let providers: ProviderConfig
    /// Where the blobs are read from.
    public let blobs: any BlobReader
    public let backoff: DeliveryBackoff
    public let hub: DeliveryHub
    public let logger: Logger
    /// Counts what became of each provider call (`assetdedup_deliveries_total`).
    public let metrics: Metrics

    public init(
        providers: ProviderConfig, blobs: any BlobReader, hub: DeliveryHub,
        backoff: DeliveryBackoff = DeliveryBackoff(),
        metrics: Metrics = Metrics(),
        logger: Logger
    ) {
        self.metrics = metrics
        self.providers = providers
        self.blobs = blobs
        self.hub = hub
        self.backoff = backoff
        self.logger = logger
    }

    /// How long a lease lasts on each configured provider: what `leaseNextDelivery` takes.
    public var leaseSeconds: [ProviderID: Double] {
        Dictionary(uniqueKeysWithValues: providers.providers.map { ($0.id, $0.leaseSeconds) })
    }

    /// What became of one job.
    public enum Outcome: Sendable, Equatable {
        case delivered(providerAssetID: String)
        case retrying(error: String)
        case failed(error: String)
        /// The outcome could not be written (the database was busy); the lease runs out and
        /// the job is sent again with the same idempotency key.
        case unrecorded
    }

    /// Sends `job` (leased by `owner`) and records what happened on `store`; wakes waiters.
    @discardableResult
    public func run(_ job: Delivery, owner: String, store: any DeliveryStore, now: () -> Date = Date.init) -> Outcome {
        record(send(job, store: store), of: job, owner: owner, store: store, now: now)
    }

    /// Records what sending `job` (leased by `owner`) came to: delivered, queued again after the
    /// backoff when retryable, else failed; counts it and wakes waiters.
    @discardableResult
    public func record(
        _ result: Result<String, ProviderError>, of job: Delivery, owner: String, store: any DeliveryStore,
        now: () -> Date = Date.init
    ) -> Outcome {
        defer { hub.changed() }
        // Counted before the outcome is recorded, so a request woken by the record sees it counted.
        switch result {
        case .success: metrics.delivery(to: job.providerID.rawValue, .ok)
        case .failure(let error): metrics.delivery(to: job.providerID.rawValue, error.retryable ? .retry : .failed)
        }
        do {
            switch result {
            case .success(let providerAssetID):
                try store.completeDelivery(
                    asset: job.assetID, provider: job.providerID, providerAssetID: providerAssetID, now: now())
                return .delivered(providerAssetID: providerAssetID)
            case .failure(let error):
                let retryAt =
                    error.retryable ? now().addingTimeInterval(backoff.delay(afterAttempts: job.attempts)) : nil
                logger.warning(
                    "delivery of asset \(job.assetID) to \(job.providerID) failed (attempt \(job.attempts)\(error.retryable ? ", will retry" : "")): \(error.message)"
                )
                try store.failDelivery(
                    asset: job.assetID, provider: job.providerID, owner: owner, error: error.message, retryAt: retryAt,
                    now: now())
                return error.retryable ? .retrying(error: error.message) : .failed(error: error.message)
            }
        } catch {
            logger.error("could not record the delivery of asset \(job.assetID) to \(job.providerID): \(error)")
            return .unrecorded
        }
    }

    /// The adapter call: a missing blob or provider fails for good; a provider that can tell it
    /// holds the content already is not sent the bytes again.
    func send(_ job: Delivery, store: any DeliveryStore) -> Result<String, ProviderError> {
        func fail(_ message: String) -> Result<String, ProviderError> {
            .failure(ProviderError(provider: job.providerID, retryable: false, message: message, attempts: 0))
        }
        guard let adapter = providers.provider(job.providerID) else {
            return fail("provider \(job.providerID) is not configured in this process")
        }
        let asset: Asset
        do {
            guard let found = try store.anyUsersAsset(id: job.assetID) else {
                return fail("asset \(job.assetID) is gone")
            }
            asset = found
        } catch {
            return .failure(
                ProviderError(provider: job.providerID, retryable: true, message: "database: \(error)", attempts: 0))
        }
        guard let sha256 = asset.sha256 else { return fail("asset \(job.assetID) has no sha256 yet (run backfill)") }
        let blob = BlobReference(
            path: "", sha256: sha256, size: asset.size, filename: asset.originalFilename, mimeType: asset.mimeType,
            idempotencyKey: job.idempotencyKey, object: blobs.remoteObject(for: sha256))
        do {
            switch try adapter.send(blob, files: StoredBlobFiles(blobs: blobs)) {
            case .uploaded(let id), .alreadyThere(let id): return .success(id)
            }
        } catch let error as ProviderError {
            return .failure(error)
        } catch {
            return fail("\(error)")
        }
    }
}

/// What a sender needs of the store: the queue, and the asset it sends.
public typealias DeliveryStore = DeliveryQueue
